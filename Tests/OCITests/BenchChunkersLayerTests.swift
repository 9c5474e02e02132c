import CairnTestSupport
import Foundation
import Testing

/// `cairn bench chunkers` over image layouts (spec/cli.md, "`cairn bench chunkers`", Inputs):
/// each layer measured as stored and as its tar, named `ARG@layer-N (gzip)` / `(tar)`; a plain
/// tar is one input as is.
@Suite struct BenchChunkersLayerTests {
    static let chunkers = ["--chunkers", "size-262144,fastcdc-16384-65536-262144"]

    static func rows(_ arguments: [String]) throws -> [[String: Any]] {
        let run = try CairnProcess.run(["bench", "chunkers", "--json"] + chunkers + arguments)
        try #require(run.status == 0, "\(run.stderr)")
        return try run.stdoutText.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    static func int(_ row: [String: Any], _ key: String) -> Int { (row[key] as? NSNumber)?.intValue ?? -1 }

    static func row(_ rows: [[String: Any]], _ input: String, _ chunker: String) throws -> [String: Any] {
        try #require(rows.first { $0["input"] as? String == input && ($0["chunker"] as? String)?.hasPrefix(chunker) == true })
    }

    /// Two umoci images, one text file changed at the start of the layer: over the tar,
    /// FastCDC finds ≥ 90 % of version 2 in version 1; over the gzip blob, fixed-size chunks
    /// find nothing (the compressed stream differs from the change on). The sizes are the
    /// blob's (the manifest's) and the tar's (gunzip's), and the DAG sizes those `cairn add`
    /// prints for the same bytes.
    @Test func layersAsStoredAndAsTarAcrossVersions() throws {
        let fixtures = try Fixtures.get()
        let v1 = fixtures.v1.path, v2 = fixtures.v2.path
        let rows = try Self.rows(["--versions", v1, v2])
        var inputs: [String] = []
        for row in rows { if let input = row["input"] as? String, !inputs.contains(input) { inputs.append(input) } }
        #expect(inputs == ["\(v1)@layer-1 (gzip)", "\(v1)@layer-1 (tar)", "\(v2)@layer-1 (gzip)", "\(v2)@layer-1 (tar)"])
        #expect(rows.count == 8)

        let cdc = try Self.row(rows, "\(v2)@layer-1 (tar)", "fastcdc-16384-65536-262144")
        #expect(Double(Self.int(cdc, "seen_bytes")) >= 0.9 * Double(Self.int(cdc, "bytes")), "\(cdc)")
        let fixed = try Self.row(rows, "\(v2)@layer-1 (gzip)", "size-262144")
        #expect(Double(Self.int(fixed, "seen_bytes")) < 0.01 * Double(Self.int(fixed, "bytes")), "\(fixed)")

        let copy = try LayoutCopy(of: fixtures.v2, label: "bench")
        defer { copy.remove() }
        let blob = copy.blobURL(try copy.layerDigest())
        let stored = try Data(contentsOf: blob)
        let tar = fixtures.root.appendingPathComponent("bench-v2-layer.tar")
        defer { try? FileManager.default.removeItem(at: tar) }
        try Tool.must("gzip", ["-dc"], stdin: blob, stdout: tar)
        for (input, file) in [("\(v2)@layer-1 (gzip)", blob), ("\(v2)@layer-1 (tar)", tar)] {
            for spec in ["size-262144", "fastcdc-16384-65536-262144"] {
                let row = try Self.row(rows, input, spec)
                let size = try #require(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int)
                #expect(Self.int(row, "bytes") == size, "\(input) \(spec)")
                let add = try CairnProcess.run(["add", "-n", "--json", "--chunker", spec, file.path])
                let added = try #require(try JSONSerialization.jsonObject(with: Data(add.stdoutText.split(separator: "\n").last!.utf8)) as? [String: Any])
                #expect("\(Self.int(row, "dag_bytes"))" == added["Size"] as? String, "\(input) \(spec)")
            }
        }
        #expect(stored.count == Self.int(fixed, "bytes"))
    }

    /// The oci-archive and the docker-archive of v1 give the layout's layer, as stored and as
    /// tar, with the same bytes; a plain tar is measured as one input under its own path.
    @Test func archivesAndPlainTars() throws {
        let fixtures = try Fixtures.get()
        let layout = try Self.rows([fixtures.v1.path])
        let plain = fixtures.root.appendingPathComponent("bench-plain.tar")
        defer { try? FileManager.default.removeItem(at: plain) }
        try Tool.must("tar", ["-cf", plain.path, "-C", fixtures.v1.path, "index.json", "blobs"])
        // skopeo keeps the gzip layer in an oci-archive; a docker-archive may hold it uncompressed
        // (then it is one input, its tar).
        for (archive, forms) in [(fixtures.ociArchive.path, ["gzip", "tar"]), (fixtures.dockerArchive.path, ["tar"])] {
            let rows = try Self.rows([archive])
            #expect(rows.count == 4 || (forms == ["tar"] && rows.count == 2), "\(archive)")
            for form in forms {
                let mine = try Self.row(rows, "\(archive)@layer-1 (\(form))", "size-262144")
                let reference = try Self.row(layout, "\(fixtures.v1.path)@layer-1 (\(form))", "size-262144")
                #expect(Self.int(mine, "bytes") == Self.int(reference, "bytes"), "\(archive) \(form)")
                #expect(Self.int(mine, "dag_bytes") == Self.int(reference, "dag_bytes"), "\(archive) \(form)")
            }
        }
        let rows = try Self.rows([plain.path])
        #expect(rows.map { $0["input"] as? String } == [plain.path, plain.path])
        let size = try #require(try FileManager.default.attributesOfItem(atPath: plain.path)[.size] as? Int)
        #expect(rows.allSatisfy { Self.int($0, "bytes") == size })
    }
}
