import Multiformats

import Blocks
import CairnSystem

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of a format-2 record
/// header (spec/blockstore.md §3).
enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// Continues a running checksum (start from 0) over `bytes`.
    static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var value = ~crc
        for byte in bytes { value = table[Int((value ^ UInt32(byte)) & 0xFF)] ^ (value >> 8) }
        return ~value
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { update(0, $0) } }
}

/// One record found in a pack file.
struct PackRecord {
    var cid: CID
    /// Where the record starts.
    var start: Int64
    /// Where the block's bytes start, and how many there are.
    var blockOffset: Int64
    var length: Int
    /// The offset just past the record.
    var end: Int64
}

/// Reading pack files by their own structure (no index): recovery, `verify`, `store repair`.
///
/// Every read goes through `read(into:at:)`, the one place that knows where the bytes are: an
/// open file (what the store uses) or a byte buffer (`init(bytes:)`, what the `pack-record`
/// fuzz target and tests use), so the record parser and the resyncing walk are the same code
/// over either.
struct PackFile {
    private enum Storage {
        case file(Int32)
        case memory([UInt8])
    }

    private let storage: Storage
    let path: String
    /// The pack format version of its header, nil when the file does not start with one.
    let version: UInt8?
    let size: Int64

    /// The longest CID a record may start with (a 64-byte digest and its varints, with room).
    static let maxCIDLength = 160

    init(fd: Int32, path: String) throws {
        storage = .file(fd)
        self.path = path
        size = try Sys.fileSize(fd, path: path)
        version = try PackFile.readVersion(storage, path: path)
    }

    /// A pack whose header is damaged, read as if its header named `version` (`store repair`
    /// salvages its records: each one still checks against its CID).
    init(fd: Int32, path: String, assumingVersion version: UInt8) throws {
        storage = .file(fd)
        self.path = path
        size = try Sys.fileSize(fd, path: path)
        self.version = version
    }

    /// The pack format a pack with a damaged header was written in: the first format under
    /// which a verified record is found from offset 16 (format 2 first: its records also carry
    /// a header checksum), nil if there is none under either.
    static func guessVersion(fd: Int32, path: String) throws -> UInt8? {
        struct Found: Error {}
        for version in PackFormat.readableVersions.reversed() {
            let pack = try PackFile(fd: fd, path: path, assumingVersion: version)
            do {
                try pack.walk(from: Int64(PackFormat.headerSize), resync: true, { _, _ in throw Found() })
            } catch is Found {
                return version
            }
        }
        return nil
    }

    /// A pack held in memory, read exactly as a file holding `bytes` would be.
    init(bytes: [UInt8], path: String = "(pack in memory)") {
        storage = .memory(bytes)
        self.path = path
        size = Int64(bytes.count)
        version = try? PackFile.readVersion(storage, path: path)
    }

    private static func readVersion(_ storage: Storage, path: String) throws -> UInt8? {
        var header = [UInt8](repeating: 0, count: PackFormat.headerSize)
        let got = try header.withUnsafeMutableBytes { try read(storage, into: $0, at: 0, path: path) }
        return got == PackFormat.headerSize ? PackFormat.version(ofHeader: header) : nil
    }

    /// Reads up to `buffer.count` bytes at `offset` (fewer only at the end); returns how many.
    private static func read(_ storage: Storage, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64,
                             path: String) throws -> Int {
        switch storage {
        case .file(let fd):
            return try Sys.preadFull(fd, buffer, at: offset, path: path)
        case .memory(let bytes):
            guard offset >= 0, offset < Int64(bytes.count), !buffer.isEmpty else { return 0 }
            let count = min(buffer.count, bytes.count - Int(offset))
            bytes.withUnsafeBytes { source in
                buffer.baseAddress!.copyMemory(from: source.baseAddress! + Int(offset), byteCount: count)
            }
            return count
        }
    }

    private func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        try PackFile.read(storage, into: buffer, at: offset, path: path)
    }

    /// The record at `offset` if a complete, well-formed one is there (its length, its CID and,
    /// in format 2, its header checksum); its block bytes are not hashed.
    func record(at offset: Int64) throws -> PackRecord? {
        guard let version, offset >= Int64(PackFormat.headerSize) else { return nil }
        var head = [UInt8](repeating: 0, count: PackFormat.recordHeaderSize(version: version) + PackFile.maxCIDLength)
        let got = try head.withUnsafeMutableBytes { try read(into: $0, at: offset) }
        return head.withUnsafeBytes { parse(UnsafeRawBufferPointer(rebasing: $0[0..<got]), at: offset) }
    }

    /// A record header at the start of `bytes` (read from `offset`), nil when it is not one.
    private func parse(_ bytes: UnsafeRawBufferPointer, at offset: Int64) -> PackRecord? {
        guard let version else { return nil }
        let headerSize = PackFormat.recordHeaderSize(version: version)
        guard bytes.count > headerSize else { return nil }
        let total = Int(UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
        guard total > 0, total <= PackFormat.maxBlockSize + PackFile.maxCIDLength,
              offset + Int64(headerSize + total) <= size else { return nil }
        let available = min(bytes.count - headerSize, total)
        guard let decoded = try? CID.decode(prefixOf: UnsafeRawBufferPointer(rebasing: bytes[headerSize..<(headerSize + available)]))
        else { return nil }
        let cid = decoded.cid, cidLength = decoded.length
        if version >= 2 {
            let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let computed = PackFormat.headerChecksum(length: UnsafeRawBufferPointer(rebasing: bytes[0..<4]),
                                                     cid: UnsafeRawBufferPointer(rebasing: bytes[headerSize..<(headerSize + cidLength)]))
            guard stored == computed else { return nil }
        }
        return PackRecord(cid: cid, start: offset, blockOffset: offset + Int64(headerSize + cidLength), length: total - cidLength,
                          end: offset + Int64(headerSize + total))
    }

    /// The record at `offset` if it is well formed and its block hashes to its CID.
    func verifiedRecord(at offset: Int64) throws -> (record: PackRecord, bytes: [UInt8])? {
        guard let record = try record(at: offset) else { return nil }
        return try verified(record)
    }

    private func verified(_ record: PackRecord) throws -> (record: PackRecord, bytes: [UInt8])? {
        let bytes = try [UInt8](unsafeUninitializedCapacity: record.length) { buffer, count in
            count = try read(into: UnsafeMutableRawBufferPointer(buffer), at: record.blockOffset)
        }
        guard bytes.count == record.length,
              bytes.withUnsafeBytes({ BlockVerifier.verdict(record.cid, $0) }) == .valid else { return nil }
        return (record, bytes)
    }

    /// Walks the verified records that follow one another from `start`; returns where the last
    /// one ends (`start` if there is none). With `resync`, bytes that are no record (damage, or
    /// the torn tail of an interrupted batch) are searched for the next verified record and
    /// reported to `skipped`; without it the walk stops there.
    @discardableResult
    func walk(from start: Int64, resync: Bool, _ body: (PackRecord, [UInt8]) throws -> Void,
              skipped: (Range<Int64>) -> Void = { _ in }) throws -> Int64 {
        var offset = start
        var lastEnd = start
        while offset < size {
            if let found = try verifiedRecord(at: offset) {
                try body(found.record, found.bytes)
                offset = found.record.end
                lastEnd = offset
                continue
            }
            guard resync else { break }
            guard let next = try nextRecord(after: offset) else {
                skipped(offset..<size)
                break
            }
            skipped(offset..<next.record.start)
            try body(next.record, next.bytes)
            offset = next.record.end
            lastEnd = offset
        }
        return lastEnd
    }

    /// The first verified record starting after `offset`: windows of the file are scanned in
    /// memory for a plausible header, and only those are read and hashed.
    private func nextRecord(after offset: Int64) throws -> (record: PackRecord, bytes: [UInt8])? {
        guard let version else { return nil }
        let reach = PackFormat.recordHeaderSize(version: version) + PackFile.maxCIDLength
        // Windows of 1 MiB (less when less of the file is left), plus the reach of a header
        // that starts in the window's last byte.
        let windowPositions = Int(max(0, min(Int64(1 << 20), size - offset - 1)))
        var window = [UInt8](repeating: 0, count: windowPositions + reach)
        var base = offset + 1
        while base < size {
            let got = try window.withUnsafeMutableBytes { try read(into: $0, at: base) }
            let positions = max(0, min(got, windowPositions))
            for position in 0..<positions {
                let candidate = window.withUnsafeBytes {
                    parse(UnsafeRawBufferPointer(rebasing: $0[position..<min(got, position + reach)]), at: base + Int64(position))
                }
                if let candidate, let found = try verified(candidate) { return found }
            }
            base += Int64(positions)
            if positions == 0 { break }
        }
        return nil
    }
}
