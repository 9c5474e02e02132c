// The block store's read and verify paths over hostile pack bytes and index rows
// (spec/blockstore.md §3, §7). Packs have no record parser (reads go by index row), so each
// input rewrites the store instead: bytes appended to the pack, one index row's offset, length,
// codec, version or multihash, the pack's committed size, a byte of the pack header. Then
// `get` of every block, `list`, `verify` and a UnixFS read of the file run, and the store is
// restored. Invariants: never a crash, and never a wrong byte: a block `get` returns is the
// block that was stored, and a file read that succeeds gives the file's bytes.
import Blocks
import BlockStore
import Foundation
import FuzzSupport
import GRDB
import Hashing
import Multiformats
import Engine

/// A store holding one two-leaf UnixFS file, made once per process.
private final class Fixture: @unchecked Sendable {
    let root: String
    let store: BlockStore
    let index: DatabaseQueue
    let blocks: [Block]
    let file: CID
    let fileBytes = Array("hello world".utf8)
    /// Original rows: mh, codec, version, pack, offset, length.
    let rows: [(mh: Data, codec: Int64, version: Int64, pack: Int64, offset: Int64, length: Int64)]
    let packID: Int64
    let packSize: Int64
    let packPath: String
    let packBytes: [UInt8]

    init() throws {
        // On tmpfs when there is one: each input rewrites the pack and commits two index
        // transactions, and on a disk their fsyncs (not the store's code) set the pace.
        let tmp = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()
        root = tmp + "cairn-fuzz-store-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        store = try BlockStore(path: root)
        func block(_ codec: Multicodec, _ bytes: [UInt8]) throws -> Block {
            let digest = HashAlgorithm.sha2_256.hash(bytes).bytes
            return Block(cid: CID.v1(codec: codec, multihash: try Multihash(code: .sha2_256, digest: digest)), bytes: bytes)
        }
        let leaves = [try block(.raw, Array("hello ".utf8)), try block(.raw, Array("world".utf8))]
        var data: [UInt8] = []
        UnixFSData.fileNode(blockSizes: [6, 5]).encode(into: &data)
        let node = PBNode(links: leaves.map { PBLink(hash: $0.cid, name: [], tsize: UInt64($0.bytes.count)) }, data: data)
        var encoded: [UInt8] = []
        node.encode(into: &encoded)
        let top = try block(.dagPB, encoded)
        blocks = leaves + [top]
        file = top.cid
        _ = try store.putMany(blocks)
        // The fuzzer's own connection commits without fsync (the store's connections are
        // unchanged): durability of these edits is not under test.
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = OFF") }
        index = try DatabaseQueue(path: root + "/index.sqlite", configuration: configuration)
        rows = try index.read { db in
            try Row.fetchAll(db, sql: "SELECT mh, codec, version, pack, offset, length FROM blocks ORDER BY offset")
                .map { ($0[0], $0[1], $0[2], $0[3], $0[4], $0[5]) }
        }
        (packID, packSize) = try index.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT id, size FROM packs")!
            return (row[0], row[1])
        }
        packPath = root + "/packs/" + String(format: "%08lld.pack", packID)
        packBytes = Array(try Data(contentsOf: URL(fileURLWithPath: packPath)))
        atexit { try? FileManager.default.removeItem(atPath: fixture.root) }
    }

    func writePack(_ bytes: [UInt8]) {
        let fd = open(packPath, O_WRONLY)
        precondition(fd >= 0, "cannot open \(packPath)")
        defer { close(fd) }
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        _ = ftruncate(fd, off_t(bytes.count))
    }
}

private let fixture: Fixture = {
    do { return try Fixture() } catch { fatalError("cannot make the fuzz store: \(error)") }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStore(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = InputReader(inputBytes(data, size))
    let row = fixture.rows[Int(input.byte()) % fixture.rows.count]
    let flags = input.byte()
    var offset = row.offset, length = row.length, codec = row.codec, version = row.version
    var packSize = fixture.packSize
    var mh = row.mh
    if flags & 1 != 0 { offset = input.signed() }
    if flags & 2 != 0 { length = input.signed() }
    if flags & 4 != 0 { codec = input.signed(); version = input.signed() }
    if flags & 8 != 0 { packSize = input.signed() }
    if flags & 16 != 0 { mh = Data(input.take(Int(input.byte()))) }
    var pack = fixture.packBytes
    if flags & 32 != 0 { pack[Int(input.byte()) % 16] = input.byte() }
    if flags & 64 != 0 {
        let cut = Int(UInt16(input.byte()) << 8 | UInt16(input.byte()))
        pack.removeLast(min(pack.count, cut))
    }
    // Any offset and length go in, negative, overflowing or huge: the store validates every
    // row it reads (spec/blockstore.md §4). A length of ~3.4 TB once made the reader allocate
    // it before checking (found by this target); the store now refuses such a row.
    pack += input.remaining
    fixture.writePack(pack)
    let changed: Bool
    do {
        try fixture.index.write { db in
            try db.execute(sql: "UPDATE blocks SET mh = ?, codec = ?, version = ?, offset = ?, length = ? WHERE mh = ?",
                           arguments: [mh, codec, version, offset, length, row.mh])
            try db.execute(sql: "UPDATE packs SET size = ? WHERE id = ?", arguments: [packSize, fixture.packID])
        }
        changed = true
    } catch {
        changed = false   // e.g. the new mh collides with another row's
    }
    if changed { exercise() }
    // Restore the store for the next input.
    do {
        try fixture.index.write { db in
            try db.execute(sql: "UPDATE blocks SET mh = ?, codec = ?, version = ?, offset = ?, length = ? WHERE mh = ?",
                           arguments: [row.mh, row.codec, row.version, row.offset, row.length, mh])
            try db.execute(sql: "UPDATE packs SET size = ? WHERE id = ?", arguments: [fixture.packSize, fixture.packID])
        }
    } catch {
        fatalError("cannot restore the fuzz store: \(error)")
    }
    fixture.writePack(fixture.packBytes)
    return 0
}

/// Every read path on the damaged store; none may crash or return a wrong byte.
private func exercise() {
    let store = fixture.store
    for block in fixture.blocks {
        let (cid, bytes) = (block.cid, block.bytes)
        if let got = try? store.getIfPresent(cid) {
            require(got == bytes, "get(\(cid)) returned bytes that are not the block")
        }
        _ = try? store.size(of: cid)
    }
    _ = try? store.list { _, _ in }
    _ = try? store.stat()
    if let report = try? store.verify(batchBytes: 1 << 16, threads: 1) {
        _ = report.problems.map(\.description)
    }
    var read: [UInt8] = []
    if (try? UnixFSReader(store: store).readFile(fixture.file, { read += $0 })) != nil {
        require(read == fixture.fileBytes, "the file read back differs from the file")
    }
}
