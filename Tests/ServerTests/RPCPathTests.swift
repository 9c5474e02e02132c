import Foundation
import Testing
import CairnTestSupport
import Multiformats

/// Every argument naming content (`cat`, `block/stat|get|rm`, `dag/export`, `pin/add|rm|ls|update`)
/// is an IPFS path, as Kubo's commands resolve theirs with `cmdutils.PathOrCidPath`
/// (core/commands/cat.go, block.go, dag/export.go, pin/pin.go): `CID/NAME/…` or
/// `/ipfs/CID/NAME/…` through basic and HAMT-sharded UnixFS directories (spec/serve.md §5.3). The tree is made by the CLI, whose CIDs the add tests hold to Kubo's.
@Suite struct RPCPathTests {
    /// Through dag-cbor: map keys and list indexes lead to a link (tag 42), as boxo's resolver
    /// follows them; a path ending inside a block names that block; a key absent is
    /// `no link named` (boxo `resolver.ErrNoLink`).
    @Test func pathsThroughDagCBOR() throws {
        try withServeProcess("cbor-paths") { work, server in
            let file = work.appendingPathComponent("file.txt")
            try Data("linked from cbor\n".utf8).write(to: file)
            let added = try rpc(server, "add?cid-version=1", ["-F", "file=@\(file.path)"])
            let fileCID = try #require(jsonLines(added.text).last?["Hash"] as? String)
            let link = [UInt8(0)] + (try CID(fileCID)).bytes
            // {"a": {"b": [link]}, "n": 5} in dag-cbor (keys sorted, definite lengths).
            var cbor: [UInt8] = [0xA2, 0x61, UInt8(ascii: "a"), 0xA1, 0x61, UInt8(ascii: "b"), 0x81, 0xD8, 0x2A, 0x58, UInt8(link.count)]
            cbor += link
            cbor += [0x61, UInt8(ascii: "n"), 0x05]
            let node = work.appendingPathComponent("node.cbor")
            try Data(cbor).write(to: node)
            let put = try rpc(server, "block/put?cid-codec=dag-cbor", ["-F", "file=@\(node.path)"])
            let key = try #require(jsonLines(put.text).first?["Key"] as? String, "\(put.text)")

            let stat = try rpc(server, "block/stat?arg=/ipfs/\(key)/a/b/0")
            #expect(jsonLines(stat.text).first?["Key"] as? String == fileCID, "\(stat.text)")
            let cat = try rpc(server, "cat?arg=\(key)/a/b/0")
            #expect(cat.status == 200 && cat.text == "linked from cbor\n", "\(cat.text)")
            let inside = try rpc(server, "block/stat?arg=\(key)/n")
            #expect(jsonLines(inside.text).first?["Key"] as? String == key, "\(inside.text)")
            let absent = try rpc(server, "block/stat?arg=\(key)/a/c")
            #expect(absent.status == 500 && jsonLines(absent.text).first?["Message"] as? String == "no link named \"a/c\" under \(key)", "\(absent.text)")
            let pastEnd = try rpc(server, "block/stat?arg=\(key)/a/b/1")
            #expect(pastEnd.status == 500, "\(pastEnd.text)")
        }
    }

    @Test func pathsBelowARootResolve() throws {
        try withServeProcess("paths") { work, server in
            let tree = work.appendingPathComponent("tree")
            try FileManager.default.createDirectory(at: tree.appendingPathComponent("sub/wide"), withIntermediateDirectories: true)
            let inner = sm1(300_000)
            try inner.write(to: tree.appendingPathComponent("sub/inner.bin"))
            // 200 entries over a 32-link limit: a HAMT.
            for n in 0..<200 { try Data("entry \(n)\n".utf8).write(to: tree.appendingPathComponent("sub/wide/e-\(n).txt")) }
            let car = work.appendingPathComponent("tree.car")
            let added = try CairnProcess.run(["add", "-r", "-Q", "--cid-version=1", "--max-directory-links=32", "--car", car.path, tree.path])
            try #require(added.status == 0, "\(added.stderr)")
            let root = added.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            try #require(try rpc(server, "dag/import?pin-roots=false", ["-F", "file=@\(car.path)"]).status == 200)

            let cat = try rpc(server, "cat?arg=/ipfs/\(root)/sub/inner.bin")
            #expect(cat.status == 200 && cat.body == inner, "\(cat.status) \(cat.body.count) bytes")
            // A name that begins with a combining mark ("/\u{301}" is one Character): split on
            // the byte '/', found.
            let accented = "\u{301}accent.txt"
            try Data("combining\n".utf8).write(to: tree.appendingPathComponent("sub/" + accented))
            let again = try CairnProcess.run(["add", "-r", "-Q", "--cid-version=1", "--max-directory-links=32", "--car", car.path, tree.path])
            try #require(again.status == 0, "\(again.stderr)")
            let root2 = again.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            try #require(try rpc(server, "dag/import?pin-roots=false", ["-F", "file=@\(car.path)"]).status == 200)
            let encoded = try #require("/ipfs/\(root2)/sub/\(accented)".addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "/."))))
            let combining = try rpc(server, "cat?arg=\(encoded)")
            #expect(combining.status == 200 && combining.text == "combining\n", "\(combining.status) \(combining.text)")
            let wide = try rpc(server, "cat?arg=\(root)/sub/wide/e-137.txt")
            #expect(wide.status == 200 && wide.text == "entry 137\n", "\(wide.text)")
            // The leaf's CID, as the path names it.
            let leaf = try rpc(server, "block/stat?arg=\(root)//sub/wide/e-137.txt")
            let key = try #require(jsonLines(leaf.text).first?["Key"] as? String, "\(leaf.text)")
            let direct = try rpc(server, "block/get?arg=\(key)")
            #expect(direct.status == 200 && direct.text == "entry 137\n")
            let viaPath = try rpc(server, "block/get?arg=/ipfs/\(root)/sub/wide/e-137.txt")
            #expect(viaPath.body == direct.body)
            let pinned = try rpc(server, "pin/add?arg=\(root)/sub/wide&recursive=true")
            #expect(pinned.status == 200, "\(pinned.text)")
            let pins = try rpc(server, "pin/ls?type=recursive")
            let keys = (jsonLines(pins.text).first?["Keys"] as? [String: Any]) ?? [:]
            #expect(keys.count == 1 && keys.keys.first != root, "\(pins.text)")

            // Kubo's words for a name absent (500, Code 0); `..` and a bad root are the client's.
            let absent = try rpc(server, "cat?arg=\(root)/sub/nope")
            #expect(absent.status == 500, "\(absent.text)")
            #expect(jsonLines(absent.text).first?["Message"] as? String == "no link named \"nope\" under \(try #require(jsonLines(try rpc(server, "block/stat?arg=\(root)/sub").text).first?["Key"] as? String))")
            let through = try rpc(server, "cat?arg=\(root)/sub/inner.bin/x")
            #expect(through.status == 500 && through.text.contains("is not a directory"), "\(through.text)")
            // Paths are cleaned as boxo's path.NewPath cleans them (Go's path.Clean): `.` and
            // empty segments go, `..` takes the segment before it; climbing over the root leaves
            // no root (the client's error).
            let plain = try rpc(server, "cat?arg=\(root)/sub/inner.bin")
            for cleaned in ["\(root)/sub/../sub/inner.bin", "\(root)/./sub//inner.bin", "/ipfs//\(root)/sub/inner.bin"] {
                let answer = try rpc(server, "cat?arg=\(cleaned)")
                #expect(answer.status == 200 && answer.body == plain.body, "\(cleaned): \(answer.text.prefix(200))")
            }
            let above = try rpc(server, "cat?arg=\(root)/..")
            #expect(above.status == 400 && above.text.contains("expected a CID, CID/NAME"), "\(above.text)")
            let notCID = try rpc(server, "cat?arg=nocid/sub")
            #expect(notCID.status == 400, "\(notCID.text)")
            // dag/export of a path: the CAR of the DAG it names (core/commands/dag/export.go takes a
            // CID or a content path); the same bytes as the export of that CID.
            let sub = try #require(jsonLines(try rpc(server, "block/stat?arg=\(root)/sub").text).first?["Key"] as? String)
            let exportedPath = try rpc(server, "dag/export?arg=\(root)/sub")
            let exportedCID = try rpc(server, "dag/export?arg=\(sub)")
            #expect(exportedPath.status == 200 && exportedPath.body.count > 300_000 && exportedPath.body == exportedCID.body)
            // pin/rm of the same path removes that pin; block/rm takes CIDs only (Kubo's decodes a CID).
            let unpin = try rpc(server, "pin/rm?arg=/ipfs/\(root)/sub/wide")
            #expect(unpin.status == 200, "\(unpin.text)")
            #expect((jsonLines(try rpc(server, "pin/ls?type=recursive").text).first?["Keys"] as? [String: Any])?.isEmpty == true)
            // block/rm of a path removes the block it names (the file's root; its leaves stay).
            let leafKey = try #require(jsonLines(try rpc(server, "block/stat?arg=\(root)/sub/wide/e-5.txt").text).first?["Key"] as? String)
            let remove = try rpc(server, "block/rm?arg=\(root)/sub/wide/e-5.txt")
            #expect(remove.status == 200 && jsonLines(remove.text).first?["Hash"] as? String == leafKey, "\(remove.text)")
            #expect(try rpc(server, "block/stat?arg=\(leafKey)").status == 500)
        }
    }
}
