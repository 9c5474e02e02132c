import CairnTestSupport
import Foundation
import Multiformats
import Testing
@testable import UnixFS
@testable import Blocks

/// Directory roots and per-path CIDs of shared/vectors (dirs.tsv, dirs/*.paths.tsv): trees
/// rebuilt with gen-tree.py, imported from disk.
@Suite struct DirectoryVectorTests {
    static let v1: ImportParameters = {
        var options = ImportOptions()
        options.cidVersion = 1
        return try! options.resolve()
    }()

    struct Row: Sendable, CustomTestStringConvertible {
        var tree: String
        var pruned: Bool
        var v0: String
        var v1: String
        var kindV0: String
        var kindV1: String
        var testDescription: String { "\(tree) \(pruned ? "pruned" : "full")" }
    }

    static var rows: [Row] {
        ((try? Vectors.tsv("dirs.tsv")) ?? []).map {
            Row(tree: $0["tree"]!, pruned: $0["variant"] == "pruned", v0: $0["kubo_v0"]!, v1: $0["expected_v1"]!,
                kindV0: $0["root_kind_v0"]!, kindV1: $0["root_kind_v1"]!)
        }
    }

    @Test func everyRowIsPresent() throws {
        #expect(Self.rows.count == 6)
    }

    @Test(arguments: rows)
    func root(row: Row) throws {
        let parent = try makeTemporaryDirectory("dirs")
        defer { TreeFixtures.remove(parent) }
        let tree = try TreeFixtures.generate(row.tree, pruned: row.pruned, in: parent)
        for (parameters, expected, kind) in [(ImportParameters.kuboDefault, row.v0, row.kindV0), (Self.v1, row.v1, row.kindV1)] {
            var sink = CollectingSink()
            let importer = try TreeImporter(parameters: parameters, threads: 2)
            let top = try importer.importPath(tree.path, recursive: true, into: &sink)
            #expect(top.result.root.description == expected, "CIDv\(parameters.cidVersion.rawValue)")
            // The root block is the last one put, and its UnixFS type is the kind the vectors record.
            let last = try #require(sink.blocks.last)
            #expect(last.cid == top.result.root)
            let node = try PBNode(decoding: last.bytes)
            let data = try UnixFSData(decoding: node.data ?? [])
            #expect(data.type == (kind == "hamt" ? .hamtShard : .directory))
            // Every block comes after the blocks it links to.
            var seen = Set<CID>()
            for block in sink.blocks {
                if block.cid.codec == .dagPB {
                    for link in try PBNode(decoding: block.bytes).links {
                        #expect(seen.contains(link.hash), "\(block.cid) links \(link.hash) before it was put")
                    }
                }
                seen.insert(block.cid)
            }
        }
    }

    @Test(arguments: ["basic", "nested"])
    func everyPath(tree name: String) throws {
        let rows = try Vectors.tsv("dirs/\(name).paths.tsv")
        #expect(rows.count > 30)
        let parent = try makeTemporaryDirectory("paths")
        defer { TreeFixtures.remove(parent) }
        let tree = try TreeFixtures.generate(name, pruned: false, in: parent)
        let v0 = try TreeFixtures.importTree(tree)
        let v1 = try TreeFixtures.importTree(tree, parameters: Self.v1)
        #expect(v0.count == rows.count)
        for row in rows {
            let path = row["path"]!
            let a = try #require(v0[path], "\(path) not imported")
            let b = try #require(v1[path], "\(path) not imported")
            #expect(a.result.root.description == row["cid_v0"], "\(path) v0")
            #expect(String(a.result.size) == row["tsize_v0"], "\(path) v0 Tsize")
            #expect(b.result.root.description == row["cid_v1"], "\(path) v1")
            #expect(String(b.result.size) == row["tsize_v1"], "\(path) v1 Tsize")
            #expect((a.kind == .directory ? "dir" : "file") == row["kind"], "\(path) kind")
        }
    }
}

/// murmur3-x64-64 as UnixFS HAMTs use it; expected values from kubo-import-semantics.md §5.3
/// (spaolacci/murmur3 `New64().Sum(nil)`).
@Suite struct Murmur3Tests {
    @Test(arguments: [("", 0x0000_0000_0000_0000 as UInt64), ("hello", 0xCBD8_A7B3_41BD_9B02), ("a", 0x8555_5565_F659_7889),
                      ("file1", 0x4997_28C4_D21B_6ED4)])
    func h1(text: String, expected: UInt64) {
        #expect(Murmur3.hamtKey(Array(text.utf8)) == expected)
    }
}
