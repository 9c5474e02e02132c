import CAR
import CairnTestSupport
import Foundation
import Hashing
import Multiformats
import Testing
import UnixFS
import Blocks

/// Issue 15, items 7 and 8 through `cairn`: a 100 000-deep chain of dag-pb file nodes (crafted
/// with the project's encoders) is imported, read back by `cat` and `get`, and exported, with no
/// recursion on its depth; a CAR holding an insecure CID (Kubo's go-verifcid rules) is refused.
@Suite struct DeepAndInsecureCARTests {
    static func sha256CID(_ codec: Multicodec, _ bytes: [UInt8]) throws -> CID {
        CID.v1(codec: codec, multihash: try Multihash(code: .sha2_256, digest: HashAlgorithm.sha2_256.hash(bytes).bytes))
    }

    /// A CARv1 of `blocks` in the order given, written to `path`.
    static func writeCAR(root: CID, _ blocks: some Sequence<(CID, [UInt8])>, to path: String) throws {
        var writer = try CARWriter(output: CARMemoryOutput(), roots: [root])
        for (cid, bytes) in blocks { try writer.put(Block(cid: cid, bytes: bytes)) }
        try writer.finish()
        try Data(writer.output.bytes).write(to: URL(fileURLWithPath: path))
    }

    /// A CAR whose root is a file of `leaf` reached through `depth` file nodes of one link each.
    static func chainCAR(depth: Int, leaf: [UInt8], to path: String) throws -> CID {
        var blocks: [(CID, [UInt8])] = []
        var child = try sha256CID(.raw, leaf)
        blocks.append((child, leaf))
        for _ in 0..<depth {
            let bytes = PBNode(links: [PBLink(hash: child, name: nil, tsize: UInt64(leaf.count))],
                               data: UnixFSData.fileNode(blockSizes: [UInt64(leaf.count)]).bytes).bytes
            child = try sha256CID(.dagPB, bytes)
            blocks.append((child, bytes))
        }
        try writeCAR(root: child, blocks.reversed(), to: path)
        return child
    }

    @Test func hundredThousandDeepChain() throws {
        let directory = try makeTemporaryDirectory("cli-deep-chain")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = directory.appendingPathComponent("store").path
        let leaf = Array("the bottom of a very deep file\n".utf8)
        let car = directory.appendingPathComponent("chain.car").path
        let root = try Self.chainCAR(depth: 100_000, leaf: leaf, to: car)

        let verify = try CairnProcess.run(["car", "verify", "--complete", car])
        #expect(verify.status == 0, "\(verify.stderr)")
        let imported = try CairnProcess.run(["car", "import", "--store", store, car])
        #expect(imported.status == 0, "\(imported.stderr)")
        let cat = try CairnProcess.run(["cat", "--store", store, root.description])
        #expect(cat.status == 0, "\(cat.stderr)")
        #expect([UInt8](cat.stdout) == leaf)
        let out = directory.appendingPathComponent("out").path
        let get = try CairnProcess.run(["get", "--store", store, root.description, "-o", out])
        #expect(get.status == 0, "\(get.stderr)")
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))) == leaf)
        let exported = directory.appendingPathComponent("export.car").path
        let export = try CairnProcess.run(["car", "export", "--store", store, root.description, "-o", exported])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: exported)) == Data(contentsOf: URL(fileURLWithPath: car)),
                "the export is the same CAR, blocks depth first from the root")
    }

    /// A CAR of `depth` directories nested one in the other (each entry named "d"), a file at
    /// the bottom.
    static func directoryChainCAR(depth: Int, to path: String) throws -> CID {
        let leaf = Array("bottom\n".utf8)
        var blocks: [(CID, [UInt8])] = []
        var child = try sha256CID(.raw, leaf)
        blocks.append((child, leaf))
        var name = "f"
        for _ in 0..<depth {
            let bytes = PBNode(links: [PBLink(hash: child, name: name, tsize: 0)], data: UnixFSData.directory().bytes).bytes
            child = try sha256CID(.dagPB, bytes)
            blocks.append((child, bytes))
            name = "d"
        }
        try writeCAR(root: child, blocks.reversed(), to: path)
        return child
    }

    /// `get` of directories nested deeper than 4096 is refused (a hostile pass saw 100 000
    /// levels, a few MB of blocks, run for minutes with memory growing with the square of the
    /// depth: every level held its whole path); 1000 levels are written.
    @Test func directoriesNestedPastTheDepthLimit() throws {
        let directory = try makeTemporaryDirectory("cli-deep-dirs")
        defer { removeDeepTree(directory) }
        let store = directory.appendingPathComponent("store").path
        for (depth, fits) in [(1000, true), (5000, false)] {
            let car = directory.appendingPathComponent("dirs-\(depth).car").path
            let root = try Self.directoryChainCAR(depth: depth, to: car)
            let imported = try CairnProcess.run(["car", "import", "--store", store, car])
            #expect(imported.status == 0, "\(imported.stderr)")
            let out = directory.appendingPathComponent("out-\(depth)").path
            let get = try CairnProcess.run(["get", "--store", store, root.description, "-o", out])
            if fits {
                #expect(get.status == 0, "\(get.stderr)")
                let bottom = out + String(repeating: "/d", count: depth - 1) + "/f"
                #expect(try Data(contentsOf: URL(fileURLWithPath: bottom)) == Data("bottom\n".utf8))
            } else {
                #expect(get.status == 1 && get.stderr.contains("is nested deeper than 4096 directories"), "\(get.stderr)")
                #expect(!get.stderr.contains("could not be removed"), "\(get.stderr)")
                #expect(!FileManager.default.fileExists(atPath: out))
                let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                #expect(left.allSatisfy { !$0.contains("cairn-get") }, "\(left)")
            }
        }
    }

    /// A CAR with a block or a root whose CID has a 1-byte sha2-256 digest is refused by
    /// verify, ls and import (nothing stored).
    @Test func insecureCIDsAreRefused() throws {
        let directory = try makeTemporaryDirectory("cli-insecure-car")
        defer { try? FileManager.default.removeItem(at: directory) }
        let bytes = Array("x".utf8)
        let digest = HashAlgorithm.sha2_256.hash(bytes).bytes
        let short = CID.v1(codec: .raw, multihash: try Multihash(code: .sha2_256, digest: [digest[0]]))
        let good = try Self.sha256CID(.raw, bytes)
        for (name, root, block) in [("block", good, short), ("root", short, good)] {
            var writer = try CARWriter(output: CARMemoryOutput(), roots: [root])
            try writer.put(Block(cid: block, bytes: bytes))
            try writer.finish()
            let car = directory.appendingPathComponent("\(name).car").path
            try Data(writer.output.bytes).write(to: URL(fileURLWithPath: car))
            let store = directory.appendingPathComponent("store-\(name)").path
            for arguments in [["car", "verify", car], ["car", "ls", car], ["car", "import", "--store", store, car]] {
                let run = try CairnProcess.run(arguments)
                #expect(run.status == 1, "\(arguments): \(run.stderr)")
                #expect(run.stderr.contains("insecure CID") && run.stderr.contains("digest too small"), "\(arguments): \(run.stderr)")
            }
            let stat = try CairnProcess.run(["block", "stat", "--store", store, good.description])
            #expect(stat.status != 0, "the refused import stored \(good)")
        }
        // Arguments: pin add and car export refuse the short CID too.
        let store = directory.appendingPathComponent("store-args").path
        #expect(try CairnProcess.run(["block", "put", "--store", store], stdin: Data("y".utf8)).status == 0)
        for arguments in [["pin", "add", "--store", store, short.description], ["car", "export", "--store", store, short.description, "-o", directory.appendingPathComponent("x.car").path]] {
            let run = try CairnProcess.run(arguments)
            #expect(run.status == 1 && run.stderr.contains("digest too small"), "\(arguments): \(run.stderr)")
        }
    }
}
