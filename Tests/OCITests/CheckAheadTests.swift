import CairnTestSupport
import Foundation
import Testing
@testable import OCI

/// `oci add` checks a layout's layers ahead of the import, two at a time, on threads of their
/// own (`CheckAhead`, spec/oci.md §5): the CIDs are those of the blobs added one by one, a
/// failure is the first one in walk order whichever check finished first, and a failed add
/// stores nothing.
@Suite(.serialized) struct CheckAheadTests {
    /// A umoci layout of one image with `layers` gzip layers (each ~1 MiB of text and
    /// SplitMix64 bytes); its layer digests in manifest order.
    private static func layout(layers: Int) throws -> (root: URL, layers: [String]) {
        let scratch = try makeTemporaryDirectory("oci-ahead")
        let root = scratch.appendingPathComponent("layout")
        let bundle = scratch.appendingPathComponent("bundle")
        try Tool.must("umoci", ["init", "--layout", root.path])
        try Tool.must("umoci", ["new", "--image", "\(root.path):multi"])
        try Tool.must("umoci", ["unpack", "--image", "\(root.path):multi", bundle.path])
        for layer in 0..<layers {
            let rootfs = bundle.appendingPathComponent("rootfs")
            try Data(SplitMix64.bytes(seed: UInt64(layers * 100 + layer), count: 512 << 10)).write(to: rootfs.appendingPathComponent("random-\(layer).bin"))
            try Rootfs.text(seed: UInt64(layer), lines: 20_000, label: "layer \(layer)")
                .write(to: rootfs.appendingPathComponent("text-\(layer).txt"), atomically: false, encoding: .utf8)
            try Tool.must("umoci", ["repack", "--refresh-bundle", "--image", "\(root.path):multi", bundle.path])
        }
        try Tool.must("umoci", ["gc", "--layout", root.path])
        let copy = LayoutCopy(existing: root)
        let digests = (try copy.manifest()["layers"] as! [[String: Any]]).map { $0["digest"] as! String }
        #expect(digests.count == layers)
        return (root, digests)
    }

    private static func lines(_ text: String) -> [String: String] {
        var map: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            map[String(parts[0])] = String(parts[1])
        }
        return map
    }

    @Test func layersCheckedAheadGiveEachBlobsCIDAndTheFirstFailure() throws {
        let (root, layers) = try Self.layout(layers: 5)
        defer { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }
        let copy = LayoutCopy(existing: root)
        let home = root.deletingLastPathComponent().appendingPathComponent("store")

        // Each layer's CID is that of its blob added alone as a file (same default flags).
        let add = try CairnProcess.run(["oci", "add", root.path], environment: ["CAIRN_HOME": home.path])
        try #require(add.status == 0, "\(add.stderr)")
        let cids = Self.lines(add.stdoutText)
        #expect(cids.count == layers.count + 2)
        for layer in layers {
            let alone = try CairnProcess.run(["add", "--only-hash", "-Q", copy.blobURL(layer).path])
            #expect(cids[layer] == alone.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), "\(layer)")
        }
        try FileManager.default.removeItem(at: home)

        // Two damaged layers, the second one in walk order damaged so that its check fails
        // at once (a wrong gzip header) and the first one near its end (a flipped byte): the
        // error is the first layer's, whichever check ended first, and nothing is stored.
        let first = layers[1], second = layers[2]
        var bytes = [UInt8](try Data(contentsOf: copy.blobURL(first)))
        bytes[bytes.count - 100] ^= 0x01
        try Data(bytes).write(to: copy.blobURL(first))
        var other = [UInt8](try Data(contentsOf: copy.blobURL(second)))
        other[0] ^= 0xFF
        try Data(other).write(to: copy.blobURL(second))
        let damaged = try CairnProcess.run(["oci", "add", root.path], environment: ["CAIRN_HOME": home.path])
        #expect(damaged.status == 1)
        #expect(damaged.stderr.hasPrefix("Error: ") && damaged.stderr.contains("layer \(first): digest sha256:"), "\(damaged.stderr)")
        #expect(damaged.stderr.split(separator: "\n").count == 1)
        let counts = try storeCounts(home: home)
        #expect(counts.blocks == 0 && counts.pins == 0, "the failed add left \(counts)")

        // The last layer missing: refused before anything is stored, with the earlier layers
        // intact.
        bytes[bytes.count - 100] ^= 0x01
        try Data(bytes).write(to: copy.blobURL(first))
        other[0] ^= 0xFF
        try Data(other).write(to: copy.blobURL(second))
        try FileManager.default.removeItem(at: copy.blobURL(layers[4]))
        let missing = try CairnProcess.run(["oci", "add", root.path], environment: ["CAIRN_HOME": home.path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("layer \(layers[4]) is missing"), "\(missing.stderr)")
        #expect(try storeCounts(home: home).blocks == 0)
    }
}
