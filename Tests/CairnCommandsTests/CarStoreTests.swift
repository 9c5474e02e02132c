import CairnTestSupport
import Foundation
import Multiformats
import Testing
import UnixFS
import Blocks

/// `cairn car export` and `cairn car import` against the block store.
@Suite("car export / car import")
struct CarStoreTests {
    /// The blocks under `root` in a store as sorted "CID SIZE" lines: `cairn car ls` of a fresh
    /// export, so every block is read back (and verified) from that store.
    static func blockLines(_ sandbox: StoreSandbox, root: String) throws -> [String] {
        let car = sandbox.root + "/listing-\(UUID().uuidString).car"
        let export = try sandbox.cairn(["car", "export", root, "-o", car])
        #expect(export.status == 0, "\(export.stderr)")
        let ls = try CairnProcess.run(["car", "ls", car])
        return ls.stdoutText.split(separator: "\n").map(String.init).sorted()
    }

    @Test(arguments: [
        [String](), ["--cid-version", "1"], ["--trickle", "--chunker", "size-1000"],
        ["--hash", "blake3"], ["--chunker", "buzhash", "--raw-leaves"],
    ])
    func addExportImportGivesTheSameBlocks(options: [String]) throws {
        let a = try StoreSandbox()
        defer { a.cleanup() }
        let bytes = SplitMix64.bytes(seed: 31, count: 700_001)
        let file = try a.write("input.bin", bytes)
        let add = try a.cairn(["add", "-Q"] + options + [file])
        #expect(add.status == 0, "\(add.stderr)")
        let root = add.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        for v2 in [false, true] {
            let car = a.root + "/out-\(v2).car"
            let export = try a.cairn(["car", "export", root, "-o", car] + (v2 ? ["--v2"] : []))
            #expect(export.status == 0, "\(export.stderr)")
            let verify = try CairnProcess.run(["car", "verify", "--complete", car])
            #expect(verify.status == 0, "\(verify.stderr)")
            let target = try StoreSandbox()
            defer { target.cleanup() }
            let imported = try target.cairn(["car", "import", car])
            #expect(imported.status == 0, "\(imported.stderr)")
            // Same blocks, same bytes back, and the root pinned.
            #expect(try Self.blockLines(target, root: root) == Self.blockLines(a, root: root))
            let cat = try target.cairn(["cat", root])
            #expect(cat.stdout == Data(bytes))
            let pins = try target.cairn(["pin", "ls"])
            #expect(pins.stdoutText.contains(root))
        }
    }

    /// Issue 15, item 14: a header whose roots spill to a temporary file (forced small with
    /// `CAIRN_TEST_SPILL_ROOTS`) still pins and prints every root, in order.
    @Test func importPinsEveryRootOfAHeaderThatSpills() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let count = 3000
        // CIDv1 raw identity roots of 4 bytes each, and one identity block.
        let roots = try (0..<count).map { i in
            try ([0x01, 0x55, 0x00, 0x04] + withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)).withUnsafeBytes { try CID(bytes: $0) }
        }
        var header: [UInt8] = [0xa2, 0x65] + Array("roots".utf8) + [0x99, UInt8(count >> 8), UInt8(count & 0xff)]
        for root in roots { header += [0xd8, 0x2a, 0x49, 0x00] + root.bytes }
        header += [0x67] + Array("version".utf8) + [0x01]
        let block: [UInt8] = [0x01, 0x55, 0x00, 0x04, 0, 0, 0, 7, 0, 0, 0, 7]
        let car = try box.write("roots.car", Varint.encode(UInt64(header.count)) + header + [UInt8(block.count)] + block)
        let result = try CairnProcess.run(["car", "import", car, "--store", box.store], environment: ["CAIRN_TEST_SPILL_ROOTS": "64"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText.hasSuffix(", pinned " + roots.map(\.description).joined(separator: " ") + "\n"))
        let pins = try box.cairn(["pin", "ls"]).stdoutText
        for root in [roots[0], roots[1500], roots[count - 1]] { #expect(pins.contains(root.description)) }
        #expect(pins.split(separator: "\n").count == count)
    }

    @Test func badCARsLeaveTheStoreUnchanged() throws {
        let a = try StoreSandbox()
        defer { a.cleanup() }
        let bytes = SplitMix64.bytes(seed: 32, count: 1_200_000)
        let file = try a.write("input.bin", bytes)
        let root = try a.cairn(["add", "-Q", "--cid-version", "1", file]).stdoutText
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let car = a.root + "/good.car"
        #expect(try a.cairn(["car", "export", root, "-o", car]).status == 0)
        let good = try a.read(car)

        // A target store that already holds something, to see that it stays exactly as it was.
        let target = try StoreSandbox()
        defer { target.cleanup() }
        let other = try target.write("other.bin", SplitMix64.bytes(seed: 33, count: 300_000))
        #expect(try target.cairn(["add", "-Q", other]).status == 0)
        let before = try target.cairn(["store", "stat"]).stdoutText
        let pinsBefore = try target.cairn(["pin", "ls"]).stdoutText

        var bad: [(String, [UInt8])] = []
        for cut in [1, 10, 60, good.count / 3, good.count / 2, good.count - 1] {
            bad.append(("truncated at \(cut)", Array(good.prefix(cut))))
        }
        var flipped = good
        flipped[good.count - 1000] ^= 0x01
        bad.append(("flipped byte in a block", flipped))
        var lengthBlown = good
        // The first section's length varint follows the header: make it claim far too much.
        let headerLength = Int(good[0])  // the header is shorter than 128 bytes here
        lengthBlown[1 + headerLength] = 0xFF
        lengthBlown.insert(contentsOf: [0xFF, 0xFF, 0x7F], at: 2 + headerLength)
        bad.append(("section over the limit", lengthBlown))

        for (what, bytes) in bad {
            let path = try target.write("bad.car", bytes)
            let result = try target.cairn(["car", "import", path])
            #expect(result.status != 0, "\(what) was accepted")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(what): \(result.stderr)")
            #expect(try target.cairn(["store", "stat"]).stdoutText == before, "\(what) changed the store")
            #expect(try target.cairn(["pin", "ls"]).stdoutText == pinsBefore, "\(what) changed the pins")
        }
    }

    @Test func exportOfAMissingRootFailsAndWritesNothing() throws {
        let a = try StoreSandbox()
        defer { a.cleanup() }
        let file = try a.write("x.bin", [1, 2, 3])
        #expect(try a.cairn(["add", "-Q", file]).status == 0)
        let missing = "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
        let out = a.root + "/missing.car"
        let result = try a.cairn(["car", "export", missing, "-o", out])
        #expect(result.status != 0)
        #expect(!FileManager.default.fileExists(atPath: out))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: a.root).filter { $0.contains("partial") }
        #expect(leftovers.isEmpty)
    }

    @Test func addStraightToACARMatchesTheStoreExport() throws {
        let a = try StoreSandbox()
        defer { a.cleanup() }
        let tree = a.root + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/sub", withIntermediateDirectories: true)
        _ = try a.write("tree/one.bin", SplitMix64.bytes(seed: 41, count: 600_000))
        _ = try a.write("tree/sub/two.bin", SplitMix64.bytes(seed: 42, count: 5_000))
        _ = try a.write("tree/sub/empty", [])
        for flags in [[String](), ["--cid-version", "1"]] {
            let car = a.root + "/direct.car"
            let direct = try CairnProcess.run(["add", "-Q", "-r", "--car", car] + flags + [tree])
            #expect(direct.status == 0, "\(direct.stderr)")
            let root = direct.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            let onlyHash = try CairnProcess.run(["add", "-Q", "-r", "-n"] + flags + [tree])
            #expect(onlyHash.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == root)
            let verify = try CairnProcess.run(["car", "verify", "--complete", car])
            #expect(verify.status == 0, "\(verify.stderr)")
            #expect(verify.stdoutText.contains("roots: \(root)"))
            let stored = try a.cairn(["add", "-Q", "-r"] + flags + [tree])
            #expect(stored.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == root)
            let fromCAR = try CairnProcess.run(["car", "ls", car]).stdoutText.split(separator: "\n").sorted()
            #expect(fromCAR.map(String.init) == (try Self.blockLines(a, root: root)))
        }
    }

    /// The export fetches blocks unverified and checks them in parallel batches: a corrupt
    /// block anywhere in the DAG (here a leaf deep in the second batch) must still stop it.
    @Test(arguments: [0.1, 0.5, 0.95])
    func exportRefusesACorruptBlockInTheStore(at fraction: Double) throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let file = try box.write("f", SplitMix64.bytes(seed: 43, count: 3_000_000))
        let root = try box.cairn(["add", "-Q", "--raw-leaves", "--chunker", "size-65536", file]).stdoutText
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let pack = box.store + "/packs/00000001.pack"
        var data = try Data(contentsOf: URL(fileURLWithPath: pack))
        data[Int(Double(data.count) * fraction)] ^= 0x08
        try data.write(to: URL(fileURLWithPath: pack))
        let out = box.root + "/x.car"
        let export = try box.cairn(["car", "export", root, "-o", out])
        #expect(export.status != 0)
        #expect(export.stderr.contains("does not match its CID") || export.stderr.contains("corrupt"), "\(export.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

/// dag-cbor roots through the commands: `block put --cid-codec dag-cbor`, `pin add`, `gc`,
/// `car export`, `car verify --complete`. The block is built by hand from the dag-cbor rules.
@Suite("dag-cbor through pin, gc and car export")
struct CarStoreDagCBORTests {
    static func cborLink(_ cid: CID) -> [UInt8] {
        let payload = [0x00] + cid.bytes
        return [0xd8, 0x2a, 0x58, UInt8(payload.count)] + payload
    }

    @Test func cborRootKeepsAndExportsItsDAG() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let leaf = try box.putBlock(Array("a raw leaf".utf8))
        let child = try box.putBlock(Array("under the dag-pb node".utf8))
        let node = try box.putBlock(unixfsNode(UnixFSData(type: .file), [("", child)]), codec: "dag-pb")
        let unrelated = try box.putBlock(Array("unrelated".utf8))
        // {"a": leaf, "b": [1, node], "c": "text"}
        var cbor: [UInt8] = [0xa3, 0x61, 0x61] + Self.cborLink(leaf)
        cbor += [0x61, 0x62, 0x82, 0x01] + Self.cborLink(node)
        cbor += [0x61, 0x63, 0x64] + Array("text".utf8)
        let root = try box.putBlock(cbor, codec: "dag-cbor")
        #expect(root.codec == .dagCBOR)
        // A malformed block is refused by block put with a one-line reason.
        let bad = try box.cairn(["block", "put", "--cid-codec", "dag-cbor"], stdin: Data([0xa1, 0x01, 0x02]))
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("not valid dag-cbor"), "\(bad.stderr)")

        let pin = try box.cairn(["pin", "add", root.description])
        #expect(pin.status == 0, "\(pin.stderr)")
        let gc = try box.cairn(["gc"])
        #expect(gc.status == 0, "\(gc.stderr)")
        for kept in [root, leaf, node, child] {
            let get = try box.cairn(["block", "get", kept.description])
            #expect(get.status == 0, "\(kept) was removed: \(get.stderr)")
        }
        #expect(try box.cairn(["block", "get", unrelated.description]).status != 0)

        let car = box.root + "/cbor.car"
        let export = try box.cairn(["car", "export", root.description, "-o", car])
        #expect(export.status == 0, "\(export.stderr)")
        let verify = try CairnProcess.run(["car", "verify", "--complete", car])
        #expect(verify.status == 0, "\(verify.stderr)")
        let ls = try CairnProcess.run(["car", "ls", car])
        let listed = ls.stdoutText.split(separator: "\n").map { String($0.split(separator: " ")[0]) }
        // Depth-first pre-order in link order: root, leaf, node, child.
        #expect(listed == [root, leaf, node, child].map(\.description))

        // Imported elsewhere (completeness walked through the dag-cbor root), pinned there.
        let other = try StoreSandbox()
        defer { other.cleanup() }
        let imported = try other.cairn(["car", "import", car])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try other.cairn(["gc"]).status == 0)
        #expect(try other.cairn(["block", "get", child.description]).status == 0)
    }
}
