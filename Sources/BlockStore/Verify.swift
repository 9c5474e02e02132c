import Foundation
import GRDB
public import Multiformats

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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

    public var isClean: Bool { problems.isEmpty && packProblems.isEmpty }
}

extension BlockStore {
    /// Re-hashes every indexed block, pack by pack in file order, and checks every pack file
    /// against its committed size. Read-only; runs alongside writers (it checks the snapshot
    /// of the index it started from, reading pack bytes that snapshot references).
    public func verify(progress: ((VerifyReport) -> Void)? = nil) throws -> VerifyReport {
        var report = VerifyReport()
        try readDatabase { db in
            var packSizes: [Int64: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, size FROM packs") { packSizes[row[0]] = row[1] }
            for (id, size) in packSizes.sorted(by: { $0.key < $1.key }) {
                report.checkedPacks += 1
                let path = layout.packPath(id)
                guard let fd = try? Sys.open(path, O_RDONLY) else {
                    report.packProblems.append("pack \(PackFormat.fileName(id)) is missing")
                    continue
                }
                defer { Sys.close(fd) }
                let actual = try Sys.fileSize(fd, path: path)
                if actual < size {
                    report.packProblems.append("pack \(PackFormat.fileName(id)) has \(actual) bytes, the index committed \(size)")
                }
                var header = [UInt8](repeating: 0, count: PackFormat.headerSize)
                let n = try header.withUnsafeMutableBytes { try Sys.preadFull(fd, $0, at: 0, path: path) }
                if n < PackFormat.headerSize || Array(header.prefix(PackFormat.magic.count)) != PackFormat.magic {
                    report.packProblems.append("pack \(PackFormat.fileName(id)) does not start with the pack header")
                }
            }
            let rows = try Row.fetchCursor(db, sql: "SELECT \(IndexEntry.columns), mh FROM blocks ORDER BY pack, offset")
            var buffer: [UInt8] = []
            while let row = try rows.next() {
                try Task.checkCancellation()
                let entry = IndexEntry(row: row)
                let key: Data = row[5]
                let cid = entry.cid(try Multihash(bytes: key))
                let location = entry.location
                report.checkedBlocks += 1
                report.checkedBytes += Int64(location.length)
                let problem: String?
                if packSizes[location.pack] == nil {
                    problem = "its pack is not in the index"
                } else if location.offset + Int64(location.length) > packSizes[location.pack]! {
                    problem = "it extends past its pack's committed size"
                } else {
                    do {
                        let fd = try readHandle(location.pack)
                        if buffer.count < location.length { buffer = [UInt8](repeating: 0, count: location.length) }
                        let got = try buffer.withUnsafeMutableBytes {
                            try Sys.preadFull(fd, UnsafeMutableRawBufferPointer(rebasing: $0[0..<location.length]),
                                              at: location.offset, path: layout.packPath(location.pack))
                        }
                        if got < location.length {
                            problem = "its bytes are missing (the pack ends \(location.length - got) bytes early)"
                        } else {
                            switch buffer.withUnsafeBytes({ BlockStore.matches(UnsafeRawBufferPointer(rebasing: $0[0..<location.length]), cid.multihash) }) {
                            case .match: problem = nil
                            case .mismatch: problem = "its bytes do not hash to its CID"
                            case .unsupported: problem = "its hash function cannot be verified"
                            }
                        }
                    } catch let error as BlockStoreError {
                        problem = error.message
                    }
                }
                if let problem { report.problems.append(.init(cid: cid, location: location, reason: problem)) }
                if report.checkedBlocks & 0xFFF == 0 { progress?(report) }
            }
        }
        return report
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
