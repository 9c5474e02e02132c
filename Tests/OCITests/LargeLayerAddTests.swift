import CairnTestSupport
import Foundation
import Testing
@testable import OCI

/// `oci add` of a layer many times larger than the window in which the importer and the
/// checker read a mapped blob together (spec/oci.md §5), from a directory and from an
/// oci-archive (the blob at an offset that is not page-aligned): Kubo's CIDs, and a byte
/// flipped near the end is still caught with nothing stored.
@Suite(.serialized) struct LargeLayerAddTests {
    /// A copy of the v1 layout whose layer is a gzip tar of ~24 MiB (SplitMix64 bytes and text),
    /// and the same image as an oci-archive.
    private static func largeLayout() throws -> (copy: LayoutCopy, archive: URL, layer: String) {
        let copy = try LayoutCopy(of: try Fixtures.get().v1, label: "large")
        let rootfs = copy.root.deletingLastPathComponent().appendingPathComponent("rootfs")
        try FileManager.default.createDirectory(at: rootfs, withIntermediateDirectories: true)
        var state: UInt64 = 13
        var random = [UInt8](repeating: 0, count: 16 << 20)
        random.withUnsafeMutableBytes { bytes in
            for offset in stride(from: 0, to: bytes.count, by: 8) {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                bytes.storeBytes(of: z ^ (z >> 31), toByteOffset: offset, as: UInt64.self)
            }
        }
        try Data(random).write(to: rootfs.appendingPathComponent("random.bin"))
        try Rootfs.text(seed: 5, lines: 200_000, label: "large").write(to: rootfs.appendingPathComponent("text.txt"), atomically: false, encoding: .utf8)
        let tarURL = rootfs.deletingLastPathComponent().appendingPathComponent("layer.tar")
        try Tool.must("tar", ["-C", rootfs.path, "--owner=0", "--group=0", "--mtime=@1700000000", "-cf", tarURL.path, "random.bin", "text.txt"])
        let tar = [UInt8](try Data(contentsOf: tarURL))
        let gzip = try Compress.gzip(tar)
        try copy.replaceLayer(gzip, diffID: LayoutCopy.sha256(tar))
        let archive = copy.root.deletingLastPathComponent().appendingPathComponent("large.oci.tar")
        try Tool.must("skopeo", ["--insecure-policy", "copy", "oci:\(copy.root.path):v1", "oci-archive:\(archive.path):v1"])
        return (copy, archive, LayoutCopy.sha256(gzip))
    }

    private func added(_ path: String, home: URL) throws -> [String: String] {
        let run = try CairnProcess.run(["oci", "add", path], environment: ["CAIRN_HOME": home.path])
        try #require(run.status == 0, "\(run.stderr)")
        var cids: [String: String] = [:]
        for line in run.stdoutText.split(separator: "\n") {
            let parts = line.split(separator: " ")
            cids[String(parts[0])] = String(parts[1])
        }
        return cids
    }

    @Test func largeLayerGivesKubosCIDFromDirectoryAndArchive() throws {
        let (copy, archive, layer) = try Self.largeLayout()
        defer { copy.remove() }
        let home = copy.root.deletingLastPathComponent().appendingPathComponent("store")
        let fromDirectory = try added(copy.root.path, home: home)
        let fromArchive = try added(archive.path, home: home.appendingPathExtension("archive"))
        #expect(fromDirectory == fromArchive)
        #expect(fromDirectory.count == 3)
        guard VenvPython.isAvailable else {
            Issue.record("no .venv with kubo-python: run `make venv`")
            return
        }
        let file = copy.blobURL(layer).path
        let kubo = try KuboReference.run([file])
        try #require(!kubo.couldNotIsolate, "kubo-reference could not isolate itself")
        let expected = kubo.stdout.split(separator: "\n").compactMap { line -> String? in
            let parts = line.split(separator: "\t", maxSplits: 1)
            return parts.count == 2 && parts[1] == file ? String(parts[0]) : nil
        }.first
        #expect(expected != nil && fromDirectory[layer] == expected, "\(kubo.stdout)")
    }

    @Test func flippedByteNearTheEndStoresNothing() throws {
        let (copy, _, layer) = try Self.largeLayout()
        defer { copy.remove() }
        var bytes = [UInt8](try Data(contentsOf: copy.blobURL(layer)))
        bytes[bytes.count - 4096] ^= 0x01
        try Data(bytes).write(to: copy.blobURL(layer))
        let home = copy.root.deletingLastPathComponent().appendingPathComponent("store")
        let add = try CairnProcess.run(["oci", "add", copy.root.path], environment: ["CAIRN_HOME": home.path])
        #expect(add.status == 1)
        #expect(add.stderr.hasPrefix("Error: ") && add.stderr.contains("layer \(layer): digest sha256:"), "\(add.stderr)")
        #expect(add.stderr.split(separator: "\n").count == 1)
        let counts = try storeCounts(home: home)
        #expect(counts.blocks == 0 && counts.pins == 0, "the failed add left \(counts)")
    }
}
