import CairnTestSupport
import Foundation
import Testing
@testable import OCI

/// `cairn oci add` and `cairn oci dedup` through the binary.
@Suite(.serialized) struct AddAndDedupTests {
    /// `digest cid` lines.
    private func pairs(_ text: String) -> [(String, String)] {
        text.split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            return (String(parts[0]), String(parts[1]))
        }
    }

    /// Real Kubo's `ipfs add --only-hash` CIDs of files (nil if the reference cannot run here).
    private func kubo(_ paths: [String]) throws -> [String: String]? {
        guard VenvPython.isAvailable else {
            Issue.record("no .venv with kubo-python: run `make venv`")
            return nil
        }
        let run = try KuboReference.run(paths)
        if run.couldNotIsolate { Issue.record("kubo-reference could not isolate itself"); return nil }
        var cids: [String: String] = [:]
        for line in run.stdout.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            if parts.count == 2 { cids[String(parts[1])] = String(parts[0]) }
        }
        return cids
    }

    @Test func addGivesKubosCIDsAndPinsThem() throws {
        let fixtures = try Fixtures.get()
        let home = try makeTemporaryDirectory("oci-add")
        defer { try? FileManager.default.removeItem(at: home) }
        let run = try CairnProcess.run(["oci", "add", "--pin-name", "v1", fixtures.v1.path], environment: ["CAIRN_HOME": home.path])
        try #require(run.status == 0, "\(run.stderr)")
        let added = pairs(run.stdoutText)
        let layout = try OCILayout(path: fixtures.v1.path)
        #expect(added.map(\.0) == layout.blobs.map { $0.digest!.description })
        let files = layout.blobs.map { fixtures.v1.appendingPathComponent($0.path).path }
        if let expected = try kubo(files) {
            for ((_, cid), file) in zip(added, files) { #expect(expected[file] == cid, "\(file)") }
        }
        let counts = try storeCounts(home: home)
        #expect(counts.pins == 3)
        // Each blob reads back byte for byte.
        for ((_, cid), file) in zip(added, files) {
            let cat = try CairnProcess.run(["cat", cid], environment: ["CAIRN_HOME": home.path])
            #expect(cat.stdout == (try Data(contentsOf: URL(fileURLWithPath: file))))
        }
        // Without the diff_id check the same blobs give the same CIDs.
        let otherHome = try makeTemporaryDirectory("oci-add-unchecked")
        defer { try? FileManager.default.removeItem(at: otherHome) }
        let unchecked = try CairnProcess.run(["oci", "add", "--verify-diff-ids=false", fixtures.v1.path], environment: ["CAIRN_HOME": otherHome.path])
        #expect(unchecked.status == 0, "\(unchecked.stderr)")
        #expect(unchecked.stdoutText == run.stdoutText)
        // The layer's two digests on two threads instead of one two-lane SHA-256 (spec/oci.md §5):
        // the same CIDs.
        let splitHome = try makeTemporaryDirectory("oci-add-split")
        defer { try? FileManager.default.removeItem(at: splitHome) }
        let split = try CairnProcess.run(["oci", "add", fixtures.v1.path],
                                         environment: ["CAIRN_HOME": splitHome.path, "CAIRN_OCI_PAIRED_DIGESTS": "0"])
        #expect(split.status == 0, "\(split.stderr)")
        #expect(split.stdoutText == run.stdoutText)
    }

    @Test func addUncompressedFromAnArchive() throws {
        let fixtures = try Fixtures.get()
        let home = try makeTemporaryDirectory("oci-add-tar")
        defer { try? FileManager.default.removeItem(at: home) }
        let run = try CairnProcess.run(["oci", "add", "--uncompressed", "--cid-version", "1", "--json", fixtures.ociArchive.path],
                                       environment: ["CAIRN_HOME": home.path])
        try #require(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        let blobs = try #require(object["blobs"] as? [[String: Any]])
        let layer = try #require(blobs.first { $0["role"] as? String == "layer" })
        #expect(layer["uncompressed"] as? Bool == true)
        // The CID is the file of the decompressed tar: what `cairn add --cid-version 1` gives it,
        // and `cairn cat` returns the tar (its sha256 is the diff_id).
        let digest = try #require(layer["digest"] as? String)
        let blob = [UInt8](try Data(contentsOf: fixtures.v1.appendingPathComponent("blobs/sha256/" + digest.dropFirst(7))))
        let tar = try Compress.gunzip(blob)
        let cat = try CairnProcess.run(["cat", try #require(layer["cid"] as? String)], environment: ["CAIRN_HOME": home.path])
        #expect([UInt8](cat.stdout) == tar)
        let diffID = try #require(try OCILayout(path: fixtures.v1.path).blobs.first { $0.role == .layer }?.diffIDs.first)
        #expect(LayoutCopy.sha256(tar) == diffID.description)
    }

    @Test func addDockerArchive() throws {
        let fixtures = try Fixtures.get()
        let run = try CairnProcess.run(["oci", "add", "--json", fixtures.dockerArchive.path])
        try #require(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        #expect((object["blobs"] as? [Any])?.count == 2)  // config and layer (the manifest is manifest.json)
    }

    /// The known case of issue 13: a layer, and the same layer with a line inserted in its first
    /// file. Fixed-size chunks over the gzip blobs share almost nothing; FastCDC over the
    /// uncompressed tars shares at least 90 %.
    @Test func dedupKnownCase() throws {
        let fixtures = try Fixtures.get()
        let run = try CairnProcess.run(["oci", "dedup", "--json", "--uncompressed", "--chunkers", "size-262144,fastcdc-2048-8192-32768",
                                        fixtures.v1.path, fixtures.v2.path])
        try #require(run.status == 0, "\(run.stderr)")
        let rows = try run.stdoutText.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(rows.count == 2 * 2 * 2)  // two layers, two chunkers, two forms
        func row(_ argument: Int, _ chunker: String, _ form: String) throws -> [String: Any] {
            try #require(rows.first { $0["argument"] as? Int == argument && ($0["chunker"] as? String)?.hasPrefix(chunker) == true && $0["form"] as? String == form })
        }
        func shared(_ row: [String: Any]) -> Double {
            Double(row["presentBytes"] as! Int) / Double(row["bytes"] as! Int)
        }
        // The first argument is all new.
        for chunker in ["size-", "fastcdc-"] {
            for form in ["compressed", "uncompressed"] {
                let first = try row(0, chunker, form)
                #expect(first["newBlocks"] as? Int == first["blocks"] as? Int)
            }
        }
        let fixedGzip = try row(1, "size-", "compressed")
        let cdcTar = try row(1, "fastcdc-", "uncompressed")
        #expect(shared(fixedGzip) < 0.05, "fixed over gzip: \(fixedGzip)")
        #expect(shared(cdcTar) >= 0.90, "fastcdc over tar: \(cdcTar)")
        // Bytes in a row are the blocks' bytes: at least the content.
        #expect((cdcTar["bytes"] as! Int) >= (cdcTar["contentBytes"] as! Int))
    }

    @Test func dedupCountsTheStore() throws {
        let fixtures = try Fixtures.get()
        let home = try makeTemporaryDirectory("oci-dedup-store")
        defer { try? FileManager.default.removeItem(at: home) }
        let add = try CairnProcess.run(["oci", "add", fixtures.v1.path], environment: ["CAIRN_HOME": home.path])
        try #require(add.status == 0, "\(add.stderr)")
        let run = try CairnProcess.run(["oci", "dedup", "--json", "--chunkers", "size-262144", fixtures.v1.path],
                                       environment: ["CAIRN_HOME": home.path])
        try #require(run.status == 0, "\(run.stderr)")
        let row = try #require(try JSONSerialization.jsonObject(with: Data(run.stdoutText.split(separator: "\n")[0].utf8)) as? [String: Any])
        #expect(row["newBlocks"] as? Int == 0)
        #expect(row["presentBytes"] as? Int == row["bytes"] as? Int)
        let counts = try storeCounts(home: home)
        let after = try CairnProcess.run(["store", "stat"], environment: ["CAIRN_HOME": home.path])
        #expect(after.status == 0)
        #expect(counts.pins == 3, "dedup wrote nothing")
    }

    @Test func usageErrors() throws {
        let noLayout = try CairnProcess.run(["oci", "add"])
        #expect(noLayout.status == 64)
        let badChunker = try CairnProcess.run(["oci", "dedup", "--chunkers", "size-0", "/nonexistent"])
        #expect(badChunker.status == 64)
        let notLayout = try CairnProcess.run(["oci", "verify", "/tmp"])
        #expect(notLayout.status == 1)
        #expect(notLayout.stderr.hasPrefix("Error: /tmp is not an OCI image layout"))
    }
}
