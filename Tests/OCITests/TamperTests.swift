import CairnTestSupport
import Foundation
import Testing
@testable import OCI

/// Damaged layouts: each is a clear error naming the blob, `oci verify` exits 1, and
/// `oci add` stores nothing (the damaged blob is the last one read, after the manifest and
/// config were imported).
@Suite(.serialized) struct TamperTests {
    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case flippedByte, wrongSize, wrongDiffID, missingBlob, otherDigest, absurdSize, deepNesting, truncatedGzip, truncatedZstd
        var testDescription: String { rawValue }
    }

    /// A gzip layer of one crafted tar (a tar bomb), with its diff_id.
    private static func bomb(_ tar: [UInt8]) throws -> (gzip: [UInt8], diffID: String) {
        (try Compress.gzip(tar), LayoutCopy.sha256(tar))
    }

    /// Damages a copy; returns the expected code and a part of the message.
    private static func damage(_ copy: LayoutCopy, _ damage: Damage) throws -> (OCIError.Code, String) {
        let layer = try copy.layerDigest()
        switch damage {
        case .flippedByte:
            var bytes = [UInt8](try Data(contentsOf: copy.blobURL(layer)))
            bytes[bytes.count / 2] ^= 0x01
            try Data(bytes).write(to: copy.blobURL(layer))
            return (.mismatch, "layer \(layer): digest sha256:")
        case .wrongSize:
            var size = 0
            try copy.editManifest { manifest in
                var layers = manifest["layers"] as! [[String: Any]]
                size = layers[0]["size"] as! Int
                layers[0]["size"] = size + 1
                manifest["layers"] = layers
            }
            return (.mismatch, "layer \(layer): size \(size), expected \(size + 1)")
        case .wrongDiffID:
            let wrong = LayoutCopy.sha256(Array("another tar".utf8))
            try copy.editConfig { config in
                var rootfs = config["rootfs"] as! [String: Any]
                rootfs["diff_ids"] = [wrong]
                config["rootfs"] = rootfs
            }
            return (.mismatch, "uncompressed digest (diff_id) sha256:")
        case .missingBlob:
            try FileManager.default.removeItem(at: copy.blobURL(layer))
            return (.missingBlob, "layer \(layer) is missing")
        case .otherDigest:
            let fake = LayoutCopy.sha256(Array("some other blob".utf8))
            try FileManager.default.copyItem(at: copy.blobURL(layer), to: copy.blobURL(fake))
            try copy.editManifest { manifest in
                var layers = manifest["layers"] as! [[String: Any]]
                layers[0]["digest"] = fake
                manifest["layers"] = layers
            }
            return (.mismatch, "layer \(fake): digest \(layer), expected \(fake)")
        case .absurdSize:
            let (gzip, diffID) = try bomb(TarAndCompressionTests.absurdSizeTar())
            try copy.replaceLayer(gzip, diffID: diffID)
            return (.badTar, "claims 4611686018427387904 bytes")
        case .deepNesting:
            let (gzip, diffID) = try bomb(TarAndCompressionTests.deepTar(depth: 1000))
            try copy.replaceLayer(gzip, diffID: diffID)
            return (.badTar, "nested 1000 levels deep")
        case .truncatedGzip, .truncatedZstd:
            let bytes = [UInt8](try Data(contentsOf: copy.blobURL(layer)))
            try copy.replaceLayer(Array(bytes.dropLast(100)))
            return (.badCompression, damage == .truncatedGzip ? "truncated gzip stream" : "truncated zstd stream")
        }
    }

    @Test(arguments: Damage.allCases)
    func damagedLayoutIsRefused(_ kind: Damage) throws {
        let fixtures = try Fixtures.get()
        let copy = try LayoutCopy(of: kind == .truncatedZstd ? fixtures.v1zstd : fixtures.v1, label: kind.rawValue)
        defer { copy.remove() }
        let (code, fragment) = try Self.damage(copy, kind)

        let result = try OCIVerifier().verify(try OCILayout(path: copy.root.path), stopAtFirst: true)
        let issue = try #require(result.issues.first, "\(kind) was not noticed")
        #expect(issue.code == code, "\(kind): \(issue.message)")
        #expect(issue.message.contains(fragment), "\(kind): \(issue.message)")

        let verify = try CairnProcess.run(["oci", "verify", copy.root.path])
        #expect(verify.status == 1)
        #expect(verify.stderr.hasPrefix("Error: ") && verify.stderr.contains(fragment), "\(verify.stderr)")
        #expect(verify.stderr.split(separator: "\n").count == 1)

        let home = copy.root.deletingLastPathComponent().appendingPathComponent("store")
        let add = try CairnProcess.run(["oci", "add", copy.root.path], environment: ["CAIRN_HOME": home.path])
        #expect(add.status == 1, "\(kind): \(add.stderr)")
        #expect(add.stderr.contains(fragment), "\(add.stderr)")
        #expect(add.stdout.isEmpty)
        let counts = try storeCounts(home: home)
        #expect(counts.blocks == 0 && counts.pins == 0, "\(kind): the failed add left \(counts)")
        // The same with a layer's two digests on two threads instead of one two-lane SHA-256.
        let split = try CairnProcess.run(["oci", "add", copy.root.path],
                                         environment: ["CAIRN_HOME": home.path, "CAIRN_OCI_PAIRED_DIGESTS": "0"])
        #expect(split.status == 1 && split.stderr == add.stderr, "\(kind): \(split.stderr)")
        #expect(try storeCounts(home: home).blocks == 0)

        // --verify-diff-ids=false (spec/oci.md §5): a layer is sized and digested like any
        // other blob, so damage inside its stream or tar goes unseen; damage to the blob as
        // stored is refused as before.
        let unchecked = try CairnProcess.run(["oci", "add", "--verify-diff-ids=false", copy.root.path],
                                             environment: ["CAIRN_HOME": home.path])
        switch kind {
        case .wrongDiffID, .absurdSize, .deepNesting, .truncatedGzip, .truncatedZstd:
            #expect(unchecked.status == 0, "\(kind): \(unchecked.stderr)")
            // One line per blob: the manifest, its config and its one layer (Fixtures: one layer each).
            #expect(unchecked.stdoutText.split(separator: "\n").count == 3, "\(unchecked.stdoutText)")
        case .flippedByte, .wrongSize, .missingBlob, .otherDigest:
            #expect(unchecked.status == 1, "\(kind): \(unchecked.stderr)")
            #expect(unchecked.stderr.contains(fragment), "\(unchecked.stderr)")
        }
    }

    @Test func jsonListsEveryIssue() throws {
        let fixtures = try Fixtures.get()
        let copy = try LayoutCopy(of: fixtures.v1, label: "json")
        defer { copy.remove() }
        let good = try CairnProcess.run(["oci", "verify", "--json", copy.root.path])
        #expect(good.status == 0)
        let goodObject = try #require(try JSONSerialization.jsonObject(with: good.stdout) as? [String: Any])
        #expect(goodObject["ok"] as? Bool == true)
        #expect((goodObject["blobs"] as? [Any])?.count == 3)

        // Two problems: the config's declared size, and a flipped layer byte.
        _ = try Self.damage(copy, .flippedByte)
        try copy.editManifest { manifest in
            var config = manifest["config"] as! [String: Any]
            config["size"] = (config["size"] as! Int) + 1
            manifest["config"] = config
        }
        try Data("{}".utf8).write(to: copy.root.appendingPathComponent("unrelated-file"))  // unknown files are ignored
        let bad = try CairnProcess.run(["oci", "verify", "--json", copy.root.path])
        #expect(bad.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: bad.stdout) as? [String: Any])
        #expect(object["ok"] as? Bool == false)
        let issues = try #require(object["issues"] as? [[String: Any]])
        #expect(issues.count == 2, "\(issues)")
        #expect(issues.map { $0["kind"] as? String } == ["mismatch", "mismatch"])
        #expect(issues.last?["expected"] as? String == (try copy.layerDigest()))
        #expect(issues.last?["blob"] as? String == (try copy.layerDigest()))
    }
}
