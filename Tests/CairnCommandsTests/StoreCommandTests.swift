import CairnTestSupport
import Foundation
import Hashing
import Multiformats
import Testing
import UnixFS
import Blocks

import CairnSystem

/// A temporary directory holding a store (`store`) and input files, removed at the end.
struct StoreSandbox {
    let root: String
    var store: String { root + "/store" }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-cli-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: root) }

    /// Runs `cairn ARGS --store STORE`.
    func cairn(_ arguments: [String], stdin: Data? = nil) throws -> CairnProcess.Result {
        var arguments = arguments
        // Options go before any `--`; none of our tests uses one.
        arguments.append(contentsOf: ["--store", store])
        return try CairnProcess.run(arguments, stdin: stdin)
    }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = root + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func read(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// `cairn block put` of raw bytes (or dag-pb) → CID.
    func putBlock(_ bytes: [UInt8], codec: String = "raw") throws -> CID {
        let result = try cairn(["block", "put", "--cid-codec", codec], stdin: Data(bytes))
        #expect(result.status == 0, "\(result.stderr)")
        return try CID(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// dag-pb node bytes with UnixFS data (links in the given order).
func unixfsNode(_ data: UnixFSData, _ links: [(String, CID)]) -> [UInt8] {
    PBNode(links: links.map { PBLink(hash: $0.1, name: $0.0, tsize: 0) }, data: data.bytes).bytes
}

@Suite("cairn add/cat/get/block/pin/gc/store")
struct StoreCommandTests {
    @Test(arguments: [
        [],
        ["--raw-leaves"],
        ["--cid-version", "1"],
        ["--trickle", "--chunker", "size-1000"],
        ["--chunker", "size-4096", "--inline", "--inline-limit", "64"],
        ["--hash", "blake3", "--chunker", "rabin"],
    ])
    func addThenCatAndGetReproduceEveryByte(options: [String]) throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        var roots: Set<String> = []
        for (index, size) in [0, 1, 50, 300_000, 1_300_000].enumerated() {
            let bytes = SplitMix64.bytes(seed: UInt64(100 + index), count: size)
            let file = try box.write("in\(index)", bytes)
            let added = try box.cairn(["add", "-Q"] + options + [file])
            #expect(added.status == 0, "\(added.stderr)")
            let root = added.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            roots.insert(root)
            // The same CID as the hash-only import.
            let onlyHash = try CairnProcess.run(["add", "-Q", "-n"] + options + [file])
            #expect(onlyHash.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == root)
            let cat = try box.cairn(["cat", root])
            #expect(cat.status == 0, "\(cat.stderr)")
            #expect([UInt8](cat.stdout) == bytes, "cat of \(size) bytes with \(options)")
            let out = box.root + "/out\(index)"
            let get = try box.cairn(["get", root, "-o", out])
            #expect(get.status == 0, "\(get.stderr)")
            #expect(try box.read(out) == bytes)
        }
        let pins = try box.cairn(["pin", "ls", "-q"])
        // Every add pins its root (Kubo's `ipfs add` default), nothing else is pinned.
        #expect(roots.count == 5)
        #expect(Set(pins.stdoutText.split(separator: "\n").map(String.init)) == roots, "\(options)")
        let verify = try box.cairn(["store", "verify"])
        #expect(verify.status == 0, "\(verify.stdoutText)\(verify.stderr)")
    }

    @Test func onlyHashStoresNothing() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let file = try box.write("f", SplitMix64.bytes(seed: 1, count: 1000))
        let added = try box.cairn(["add", "-n", "-Q", file])
        #expect(added.status == 0)
        #expect(!FileManager.default.fileExists(atPath: box.store))
    }

    @Test func getWritesDirectoriesSymlinksAndHAMTShards() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let a = Array("alpha\n".utf8), b = SplitMix64.bytes(seed: 2, count: 5000), c = Array("gamma".utf8)
        let aCID = try box.putBlock(a), bCID = try box.putBlock(b), cCID = try box.putBlock(c)
        let link = try box.putBlock(unixfsNode(.symlink(target: Array("a.txt".utf8)), []), codec: "dag-pb")
        let sub = try box.putBlock(unixfsNode(.directory(), [("b.bin", bCID)]), codec: "dag-pb")
        // A HAMT (fanout 256): one entry at the top, one in a sub-shard.
        let inner = try box.putBlock(unixfsNode(.hamtShard(bitfield: [1], fanout: 256), [("05c.txt", cCID)]), codec: "dag-pb")
        let shard = try box.putBlock(unixfsNode(.hamtShard(bitfield: [3], fanout: 256), [("0Aa.txt", aCID), ("1F", inner)]), codec: "dag-pb")
        let top = try box.putBlock(unixfsNode(.directory(), [("a.txt", aCID), ("link", link), ("sharded", shard), ("sub", sub)]), codec: "dag-pb")
        let out = box.root + "/tree"
        let get = try box.cairn(["get", top.description, "-o", out])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(try box.read(out + "/a.txt") == a)
        #expect(try box.read(out + "/sub/b.bin") == b)
        #expect(try box.read(out + "/sharded/a.txt") == a)
        #expect(try box.read(out + "/sharded/c.txt") == c)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: out + "/link") == "a.txt")
        // cat refuses a directory; get refuses an existing path.
        let cat = try box.cairn(["cat", top.description])
        #expect(cat.status != 0 && cat.stderr.contains("directory"))
        let again = try box.cairn(["get", top.description, "-o", out])
        #expect(again.status != 0 && again.stderr.contains("already exists"))
    }

    @Test(arguments: ["..", ".", "", "x/y", "ok\u{0}no"])
    func getRefusesUnsafeNamesAndLeavesNothing(name: String) throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let file = try box.putBlock(Array("payload".utf8))
        let good = try box.putBlock(Array("good".utf8))
        let top = try box.putBlock(unixfsNode(.directory(), [("a-first", good), (name, file)]), codec: "dag-pb")
        let out = box.root + "/out"
        let get = try box.cairn(["get", top.description, "-o", out])
        #expect(get.status != 0)
        #expect(get.stderr.contains("unsafe entry name"))
        #expect(get.stderr.split(separator: "\n").count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: box.root).sorted() == ["store"])
    }

    @Test func badInputGetsOneLineErrors() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let missingStore = try box.cairn(["cat", "bafkreiabcd"])
        #expect(missingStore.status != 0)
        let valid = try box.putBlock(Array("x".utf8))
        let cases: [[String]] = [
            ["cat", "not-a-cid"],
            ["block", "get", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"],
            ["pin", "add", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"],
            ["pin", "rm", "--name", "nobody"],
            ["block", "put", "--cid-codec", "dag-cbor"],
            ["block", "put", "--mhtype", "md5"],
            ["gc", "--compact-threshold", "2"],
            ["cat", valid.description + "x"],
        ]
        for arguments in cases {
            let result = try box.cairn(arguments, stdin: Data())
            #expect(result.status != 0, "\(arguments) should fail")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        }
        let garbage = try box.cairn(["block", "put", "--cid-codec", "dag-pb"], stdin: Data([0xFF, 0xFF, 0x01]))
        #expect(garbage.status != 0 && garbage.stderr.contains("not valid dag-pb"))
    }

    @Test func corruptPackByteIsReportedByCatAndVerify() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let bytes = SplitMix64.bytes(seed: 3, count: 200_000)
        let file = try box.write("f", bytes)
        let root = try box.cairn(["add", "-Q", "--raw-leaves", file]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let pack = box.store + "/packs/00000001.pack"
        var data = try Data(contentsOf: URL(fileURLWithPath: pack))
        data[data.count / 2] ^= 0x40
        try data.write(to: URL(fileURLWithPath: pack))
        let cat = try box.cairn(["cat", root])
        #expect(cat.status != 0)
        #expect(cat.stderr.contains("corrupt") && cat.stderr.contains("00000001.pack"))
        let verify = try box.cairn(["store", "verify"])
        #expect(verify.status != 0)
        #expect(verify.stdoutText.contains("corrupt: "))
        let drop = try box.cairn(["store", "verify", "--drop-corrupt"])
        #expect(drop.stdoutText.contains("dropped 1 corrupt entries"))
        // The dropped block was the pinned root: the pin now names a block the store lacks.
        let after = try box.cairn(["store", "verify"])
        #expect(after.status == 1 && after.stdoutText.contains("pin problem: pin \(root) (unnamed) (recursive): its root block is not in the store"),
                "\(after.stdoutText)")
        #expect(try box.cairn(["pin", "rm", root]).status == 0)
        #expect(try box.cairn(["store", "verify"]).status == 0)
    }

    /// `pin verify` prints as Kubo's `ipfs pin verify` does (core/commands/pin/pin.go: broken
    /// pins with `  CID: error` per bad block, `--verbose` adds `CID ok`, `-q` only broken
    /// pins' CIDs, `--json` Kubo's `PinVerifyRes`) and fails when a pin is broken.
    @Test func pinVerifyReportsBrokenPins() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        var roots: [String] = []
        for seed: UInt64 in [5, 6] {
            let file = try box.write("f\(seed)", SplitMix64.bytes(seed: seed, count: 600_000))
            roots.append(try box.cairn(["add", "-Q", "--raw-leaves", "--cid-version=1", file]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let complete = try box.cairn(["pin", "verify"])
        #expect(complete.status == 0 && complete.stdoutText.isEmpty, "\(complete.stderr)")
        #expect(try box.cairn(["pin", "verify", "--verbose"]).stdoutText.split(separator: "\n").sorted() == roots.map { "\($0) ok" }.sorted())

        // The first leaf of the first file: SplitMix64's first 262 144 bytes as a raw block.
        let leafBytes = Array(SplitMix64.bytes(seed: 5, count: 262_144))
        var hasher = TestSHA256()
        hasher.update(leafBytes)
        let leaf = CID.v1(codec: .raw, multihash: try Multihash(code: .sha2_256, digest: Array(hasher.finalize())))
        #expect(try box.cairn(["block", "rm", "--force", leaf.description]).status == 0)
        let broken = try box.cairn(["pin", "verify"])
        #expect(broken.status == 1)
        #expect(broken.stdoutText == "\(roots[0]) broken\n  \(leaf): block not found in the store\n")
        #expect(broken.stderr.contains("1 of 2 recursive pins are broken"))
        #expect(try box.cairn(["pin", "verify", "-q"]).stdoutText == roots[0] + "\n")
        let json = try box.cairn(["pin", "verify", "--json", "--verbose"]).stdoutText.split(separator: "\n").sorted()
        #expect(json == [
            "{\"Cid\":\"\(roots[0])\",\"BadNodes\":[{\"Cid\":\"\(leaf)\",\"Err\":\"block not found in the store\"}]}",
            "{\"Cid\":\"\(roots[1])\",\"Ok\":true}",
        ].sorted())
        #expect(try box.cairn(["pin", "verify", "--verbose", "--quiet"]).status == 64)
    }

    @Test func pinsNamesUpdateAndGC() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        func add(_ seed: UInt64, _ extra: [String]) throws -> (String, [UInt8]) {
            let bytes = SplitMix64.bytes(seed: seed, count: 600_000)
            let result = try box.cairn(["add", "-Q"] + extra + [try box.write("f\(seed)", bytes)])
            #expect(result.status == 0, "\(result.stderr)")
            return (result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), bytes)
        }
        let (one, oneBytes) = try add(1, ["--pin-name", "shared"])
        let (two, _) = try add(2, ["--pin-name", "shared"])
        let (three, threeBytes) = try add(3, [])
        let (loose, _) = try add(4, ["--pin=false"])
        #expect(try box.cairn(["pin", "ls", "--name", "shared", "-q"]).stdoutText.split(separator: "\n").sorted() == [one, two].map { Substring($0) }.sorted())
        #expect(try box.cairn(["pin", "rm", "--name", "shared"]).stdoutText == "unpinned 2 pins named shared\n")
        #expect(try box.cairn(["pin", "add", "--recursive=false", one]).status == 0)
        #expect(try box.cairn(["pin", "ls", "--type", "direct", "-q"]).stdoutText == one + "\n")
        #expect(try box.cairn(["pin", "update", three, one]).status == 0)
        #expect(try box.cairn(["pin", "ls", "--type", "recursive", "-q"]).stdoutText == one + "\n")
        // Removing a pinned block is refused; gc keeps pinned DAGs and drops everything else.
        #expect(try box.cairn(["block", "rm", one]).status != 0)
        let gc = try box.cairn(["gc"])
        #expect(gc.status == 0, "\(gc.stderr)")
        #expect(gc.stdoutText.contains("deleted packs: 1"))
        #expect([UInt8](try box.cairn(["cat", one]).stdout) == oneBytes)
        #expect(try box.cairn(["cat", two]).status != 0)
        #expect(try box.cairn(["cat", loose]).status != 0)
        _ = threeBytes
        #expect(try box.cairn(["store", "verify"]).status == 0)
        let stat = try box.cairn(["store", "stat"]).stdoutText
        #expect(stat.contains("packs: 1\n"))
        #expect(stat.contains("pins: 1\n"))
    }
}
