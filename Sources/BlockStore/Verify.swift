import Foundation
import GRDB
import Hashing
public import Multiformats

import Blocks
import CairnSystem

/// What `verify` found.
public struct VerifyReport: Sendable {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public var cid: CID
        public var location: BlockLocation
        public var reason: String
        public var description: String { "\(cid): \(reason) (\(location))" }
    }

    /// Index rows checked.
    public var checkedBlocks = 0
    public var checkedBytes: Int64 = 0
    /// Packs checked.
    public var checkedPacks = 0
    /// Blocks whose bytes are missing, short, or do not hash to their CID.
    public var problems: [Problem] = []
    /// Packs the index lists whose file is missing or shorter than its committed size.
    public var packProblems: [String] = []
    /// Index rows removed by `dropCorrupt`.
    public var dropped = 0
    /// Pins checked, and the problems of the pins table: a row that is not a pin, a pin
    /// whose root block is not in the store.
    public var checkedPins = 0
    public var pinProblems: [String] = []

    public var isClean: Bool { problems.isEmpty && packProblems.isEmpty && pinProblems.isEmpty }
    /// Every problem found.
    public var problemCount: Int { problems.count + packProblems.count + pinProblems.count }
}

extension BlockStore {
    /// Re-hashes every indexed block, pack by pack in file order, and checks every pack file
    /// against its committed size. Read-only; runs alongside writers (it checks the snapshot
    /// of the index it started from, reading pack bytes that snapshot references).
    ///
    /// Blocks are hashed in batches of up to `batchBytes` (a block larger than that is a batch
    /// by itself) on `threads` threads (nil: every core) through `BatchHasher`; memory is the
    /// batch buffer plus one entry per block of the batch (at most 65 536).
    public func verify(batchBytes: Int = 16 << 20, threads: Int? = nil,
                       progress: ((VerifyReport) -> Void)? = nil) throws -> VerifyReport {
        var report = VerifyReport()
        try readDatabase { db in
            var packSizes: [Int64: Int64] = [:]
            var packVersions: [Int64: UInt8] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, size FROM packs") {
                guard let id = row.integer(0), let size = row.integer(1) else {
                    report.packProblems.append("corrupt index row in packs: id \(row.integer(0).map(String.init) ?? "NULL"), size \(row.integer(1).map(String.init) ?? "NULL")")
                    continue
                }
                packSizes[id] = size
            }
            for (id, size) in packSizes.sorted(by: { $0.key < $1.key }) {
                report.checkedPacks += 1
                let path = layout.packPath(id)
                let fd: Int32
                do throws(BlockStoreError) { fd = try Sys.open(path, O_RDONLY) } catch {
                    // Missing is one thing; a pack that exists but cannot be read is reported as such.
                    report.packProblems.append(error.errno == ENOENT ? "pack \(PackFormat.fileName(id)) is missing" : error.message)
                    continue
                }
                defer { Sys.close(fd) }
                let actual = try Sys.fileSize(fd, path: path)
                if actual < size {
                    report.packProblems.append("pack \(PackFormat.fileName(id)) has \(actual) bytes, the index committed \(size)")
                }
                if let version = try PackFile(fd: fd, path: path).version {
                    packVersions[id] = version
                } else {
                    report.packProblems.append("pack \(PackFormat.fileName(id)) does not start with the pack header")
                }
            }
            // Blocks are read (in row order) into one batch buffer of up to `batchBytes`, then
            // hashed together on all cores; problems are reported in row order.
            let rows = try Row.fetchCursor(db, sql: "SELECT \(IndexEntry.columns), mh FROM blocks ORDER BY pack, offset")
            var batch = VerifyBatch(capacity: batchBytes, threads: threads)
            var packFiles: [Int64: PackFile] = [:]
            defer { batch.deallocate() }
            func flush() throws {
                for (cid, location, problem) in try batch.check() {
                    report.problems.append(.init(cid: cid, location: location, reason: problem))
                }
                let before = report.checkedBlocks
                report.checkedBlocks += batch.count
                report.checkedBytes += batch.bytes
                batch.reset()
                if before >> 12 != report.checkedBlocks >> 12 { progress?(report) }
            }
            while let row = try rows.next() {
                try CancellationToken.process.check()
                let entry: IndexEntry
                let cid: CID
                do {
                    let multihash = try IndexEntry.multihash(row, column: 5)
                    entry = try IndexEntry(row: row, multihash: multihash)
                    cid = entry.cid(multihash)
                } catch let error as BlockStoreError {
                    report.packProblems.append(error.message)
                    continue
                }
                let location = entry.location
                if !batch.fits(location.length) { try flush() }
                if packSizes[location.pack] == nil {
                    batch.add(cid, location, problem: "its pack is not in the index")
                } else if location.offset + Int64(location.length) > packSizes[location.pack]! {
                    batch.add(cid, location, problem: "it extends past its pack's committed size")
                } else {
                    do {
                        let fd = try readHandle(location.pack)
                        let path = layout.packPath(location.pack)
                        if packFiles[location.pack] == nil, packVersions[location.pack] != nil {
                            packFiles[location.pack] = try PackFile(fd: fd, path: path)
                        }
                        if let pack = packFiles[location.pack], let problem = try BlockStore.recordHeaderProblem(pack, cid: cid, location: location) {
                            batch.add(cid, location, problem: problem)
                            if batch.count >= 65_536 { try flush() }
                            continue
                        }
                        try batch.read(cid, location) { try Sys.preadFull(fd, $0, at: location.offset, path: path) }
                    } catch let error as BlockStoreError {
                        batch.add(cid, location, problem: error.message)
                    }
                }
                if batch.count >= 65_536 { try flush() }
            }
            try flush()
            try verifyPins(db, &report)
        }
        return report
    }

    /// Checks every row of `pins`: it must be a pin (`Pin(row:)`), and its root block must be
    /// in the store (an identity CID always is). The DAG below a recursive pin is not walked
    /// here (`gc` and `pin add` do that).
    private func verifyPins(_ db: Database, _ report: inout VerifyReport) throws {
        let has = try db.makeStatement(sql: "SELECT 1 FROM blocks WHERE mh = ?")
        let rows = try Row.fetchCursor(db, sql: "SELECT cid, name, recursive FROM pins ORDER BY cid, name")
        while let row = try rows.next() {
            try CancellationToken.process.check()
            report.checkedPins += 1
            let pin: Pin
            do {
                pin = try Pin(row: row, layout: layout)
            } catch let error as BlockStoreError {
                report.pinProblems.append(error.message)
                continue
            }
            guard pin.cid.multihash.code != .identity else { continue }
            if try Row.fetchOne(has, arguments: [pin.cid.multihash.key]) == nil {
                let name = pin.name.map { "'\(oneLine($0, limit: 80))'" } ?? "(unnamed)"
                report.pinProblems.append("pin \(pin.cid) \(name) (\(pin.recursive ? "recursive" : "direct")): "
                    + "its root block is not in the store")
            }
        }
    }
}

extension BlockStore {
    /// Checks the record header in front of a block against its index row: the length, the
    /// CID (multihash, codec, version) and, in format 2, the header checksum. Nil when it agrees.
    static func recordHeaderProblem(_ pack: PackFile, cid: CID, location: BlockLocation) throws -> String? {
        guard let version = pack.version else { return "its pack has no pack header" }
        let start = location.offset - Int64(PackFormat.recordHeaderSize(version: version) + cid.encodedLength)
        guard start >= Int64(PackFormat.headerSize), let record = try pack.record(at: start) else {
            return "its record header in the pack is damaged (length, CID or checksum)"
        }
        guard record.blockOffset == location.offset, record.length == location.length,
              record.cid.multihash == cid.multihash, record.cid.codec == cid.codec, record.cid.version == cid.version else {
            return "its record header in the pack names \(record.cid) with \(record.length) bytes, not the index's row"
        }
        return nil
    }
}

extension BlockStoreWriter {
    /// Removes the index rows of `problems` (from `BlockStore.verify`) whose row still points
    /// at the same location and whose bytes still fail the check; returns how many.
    @discardableResult
    public func dropCorrupt(_ problems: [VerifyReport.Problem]) throws -> Int {
        var dropped = 0
        for problem in problems {
            guard let entry = try store.entry(problem.cid.multihash), entry.location == problem.location else { continue }
            let stillBad: Bool
            do {
                let bytes = try store.read(entry.location, cid: problem.cid)
                try BlockStore.check(bytes, cid: problem.cid, location: entry.location)
                stillBad = false
            } catch {
                stillBad = true
            }
            guard stillBad else { continue }
            dropped += try transaction { db in
                try db.execute(sql: "DELETE FROM blocks WHERE mh = ? AND pack = ? AND offset = ?",
                               arguments: [problem.cid.multihash.key, entry.location.pack, entry.location.offset])
                return db.changesCount
            }
        }
        return dropped
    }
}

/// One batch of `verify`: the blocks' bytes side by side in one buffer, hashed together.
private struct VerifyBatch {
    private struct Item {
        var cid: CID
        var location: BlockLocation
        /// Where its bytes start in the buffer (when read).
        var start: Int
        var problem: String?
    }

    private let capacity: Int
    private var buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    private var items: [Item] = []
    private var verifier: BlockVerifier
    private var verdicts: [BlockVerdict] = []
    private(set) var bytes: Int64 = 0

    init(capacity: Int, threads: Int?) {
        self.capacity = max(1, capacity)
        self.verifier = BlockVerifier(threads: threads)
        buffer = .allocate(byteCount: self.capacity, alignment: 64)
    }

    func deallocate() { buffer.deallocate() }

    var count: Int { items.count }

    /// Whether a block of `length` bytes still fits (an empty batch takes any block).
    func fits(_ length: Int) -> Bool { items.isEmpty || used + length <= capacity }

    mutating func reset() {
        items.removeAll(keepingCapacity: true)
        used = 0
        bytes = 0
    }

    /// A block that cannot be checked (already known to be bad).
    mutating func add(_ cid: CID, _ location: BlockLocation, problem: String) {
        items.append(Item(cid: cid, location: location, start: used, problem: problem))
        bytes += Int64(location.length)
    }

    /// Reads a block's bytes with `read` (which returns how many it got) into the buffer.
    mutating func read(_ cid: CID, _ location: BlockLocation,
                       _ read: (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        if used + location.length > buffer.count {
            // Only an empty batch gets here (see `fits`): a block larger than the capacity.
            buffer.deallocate()
            buffer = .allocate(byteCount: location.length, alignment: 64)
        }
        let got = try read(UnsafeMutableRawBufferPointer(rebasing: buffer[used..<(used + location.length)]))
        var item = Item(cid: cid, location: location, start: used, problem: nil)
        if got < location.length {
            item.problem = "its bytes are missing (the pack ends \(location.length - got) bytes early)"
        } else {
            used += location.length
        }
        items.append(item)
        bytes += Int64(location.length)
    }

    /// Hashes every block read, grouped by hash function, in parallel; returns the problems in
    /// batch order. A block larger than the capacity leaves a larger buffer behind, given back
    /// here.
    mutating func check() throws -> [(CID, BlockLocation, String)] {
        let base = UnsafeRawPointer(buffer.baseAddress!)
        verifier.check(count: items.count, into: &verdicts) { index in
            let item = items[index]
            // A block already found missing is not hashed (its verdict is ignored).
            let length = item.problem == nil ? item.location.length : 0
            return (item.cid, BlockBytes(UnsafeRawBufferPointer(start: base + item.start, count: length)))
        }
        for index in items.indices where items[index].problem == nil {
            switch verdicts[index] {
            case .valid: break
            case .mismatch: items[index].problem = "its bytes do not hash to its CID"
            case .unsupported: items[index].problem = "its hash function cannot be verified"
            }
        }
        if buffer.count > capacity {
            buffer.deallocate()
            buffer = .allocate(byteCount: capacity, alignment: 64)
        }
        return items.compactMap { item in item.problem.map { (item.cid, item.location, $0) } }
    }
}
