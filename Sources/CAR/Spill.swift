import CairnSystem
import Foundation
import Multiformats

/// A temporary file for what the verifier must remember past its memory bounds: created in the
/// temporary directory on first use and unlinked at once, so nothing outlives the process.
final class SpillFile {
    private(set) var fd: Int32 = -1
    private(set) var path = ""
    private let prefix: String

    init(prefix: String) { self.prefix = prefix }

    deinit { if fd >= 0 { SystemCall.close(fd) } }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        if fd < 0 {
            path = FileManager.default.temporaryDirectory.path + "/cairn-\(prefix)-\(getpid())-\(UInt64.random(in: 0 ... .max))"
            fd = try SystemCall.open(path, O_RDWR | O_CREAT | O_EXCL, 0o600)
            _ = SystemCall.unlink(path)
        }
        try SystemCall.pwriteAll(fd, bytes, at: offset, path: path)
    }

    /// Reads exactly `buffer.count` bytes at `offset`.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws {
        guard try SystemCall.preadFull(fd, buffer, at: offset, path: path) == buffer.count else {
            throw SystemError(code: EIO, call: "pread", path: path)
        }
    }
}

/// The links of the dag-pb and dag-cbor blocks of a CAR, for `--complete`: each list is
/// appended (a 4-byte length, then each CID's binary form behind a varint length) to a buffer
/// of at most `memoryLimit` bytes, which is written to a `SpillFile` when full. A list is
/// found again by the position `append` returned (kept as the block's value in the
/// `SpillingKeySet` of present blocks), so memory stays bounded whatever the block count.
final class SpillingLinkLists {
    /// Bytes of lists kept in memory (4 MiB); `CAIRN_TEST_SPILL_KEYS` (in keys) lowers it.
    static let defaultMemoryLimit = ProcessInfo.processInfo.environment["CAIRN_TEST_SPILL_KEYS"]
        .flatMap { Int($0) }.map { max($0 * 40, 64) } ?? 4 << 20

    private let memoryLimit: Int
    private var buffer: [UInt8] = []
    private let file = SpillFile(prefix: "links")
    /// Bytes written to the file (positions below it are there, the rest in `buffer`).
    private var fileEnd: Int64 = 0

    init(memoryLimit: Int = SpillingLinkLists.defaultMemoryLimit) { self.memoryLimit = memoryLimit }

    /// Whether some list was written to disk.
    var hasSpilled: Bool { fileEnd > 0 }

    /// Appends `links`; returns the position to read them back from.
    func append(_ links: [CID]) throws -> UInt64 {
        let position = UInt64(fileEnd) + UInt64(buffer.count)
        let lengthAt = buffer.count
        buffer += [0, 0, 0, 0]
        for cid in links {
            let bytes = cid.bytes
            var n = UInt64(bytes.count)
            while n >= 0x80 { buffer.append(UInt8(n & 0x7f) | 0x80); n >>= 7 }
            buffer.append(UInt8(n))
            buffer += bytes
        }
        let length = UInt32(buffer.count - lengthAt - 4)
        withUnsafeBytes(of: length.littleEndian) { raw in
            for i in 0..<4 { buffer[lengthAt + i] = raw[i] }
        }
        if buffer.count >= memoryLimit { try flush() }
        return position
    }

    /// Forgets the list appended last at `position`, if it is still in memory (a repeated block).
    func removeLast(from position: UInt64) {
        guard position >= UInt64(fileEnd) else { return }
        buffer.removeSubrange(Int(position - UInt64(fileEnd))...)
    }

    /// The links appended at `position`.
    func links(at position: UInt64) throws -> [CID] {
        var body: [UInt8]
        if position >= UInt64(fileEnd) {
            let at = Int(position - UInt64(fileEnd))
            let length = Int(UInt32(buffer[at]) | UInt32(buffer[at + 1]) << 8 | UInt32(buffer[at + 2]) << 16 | UInt32(buffer[at + 3]) << 24)
            body = Array(buffer[(at + 4)..<(at + 4 + length)])
        } else {
            var length: UInt32 = 0
            try withUnsafeMutableBytes(of: &length) { try file.read(into: $0, at: Int64(position)) }
            body = [UInt8](repeating: 0, count: Int(UInt32(littleEndian: length)))
            try body.withUnsafeMutableBytes { try file.read(into: $0, at: Int64(position) + 4) }
        }
        var links: [CID] = []
        var at = 0
        while at < body.count {
            var n = 0, shift = 0
            while true {
                let byte = body[at]
                at += 1
                n |= Int(byte & 0x7f) << shift
                shift += 7
                if byte < 0x80 { break }
            }
            links.append(try CID(bytes: body[at..<(at + n)]))
            at += n
        }
        return links
    }

    private func flush() throws {
        try buffer.withUnsafeBytes { try file.write($0, at: fileEnd) }
        fileEnd += Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// What the CARv2 index check remembers of each section, in file order: its payload offset and
/// the multihash there (its code and the SHA-256 of its digest), and whether an index entry
/// matched it. Up to `memoryLimit` records are kept in memory; past that they are written to
/// a `SpillFile` in pages of 64 (3.5 KiB), and only each page's first offset stays in memory
/// (8 bytes per 64 sections). Offsets grow in file order, so a look-up binary-searches those
/// first offsets, reads one page and binary-searches it.
final class SpillingSectionIndex {
    struct Record {
        var offset: UInt64
        var code: UInt64
        var matched: UInt64
        var digest: CIDKey
    }

    enum Match { case noSection, different(code: UInt64), matched(first: Bool) }

    static let pageRecords = 64
    private let memoryLimit: Int
    private var memory: [Record] = []
    private var pageStarts: [UInt64] = []
    private let file = SpillFile(prefix: "sections")
    private var spilled = 0
    private var page: [Record] = []

    init(memoryLimit: Int = SpillingKeySet.defaultMemoryLimit) {
        self.memoryLimit = max(Self.pageRecords, memoryLimit / Self.pageRecords * Self.pageRecords)
    }

    var hasSpilled: Bool { spilled > 0 }

    static func key(_ digest: UnsafeRawBufferPointer) -> CIDKey { CIDKey(hashing: digest) }

    /// Adds the section at payload `offset` (greater than every offset added before).
    func append(offset: UInt64, multihash: Multihash) throws {
        let digest = multihash.withUnsafeDigest { Self.key($0) }
        memory.append(Record(offset: offset, code: multihash.code.rawValue, matched: 0, digest: digest))
        if memory.count >= memoryLimit {
            try memory.withUnsafeBytes { try file.write($0, at: Int64(spilled * MemoryLayout<Record>.stride)) }
            for start in stride(from: 0, to: memory.count, by: Self.pageRecords) { pageStarts.append(memory[start].offset) }
            spilled += memory.count
            memory.removeAll(keepingCapacity: true)
        }
    }

    /// Checks an index entry (`code` nil: any) against the section at `offset` and marks it.
    func match(offset: UInt64, code: UInt64?, digest: UnsafeRawBufferPointer) throws -> Match {
        if let first = memory.first, offset >= first.offset {
            guard let at = Self.find(offset, in: memory) else { return .noSection }
            return Self.check(&memory[at], code: code, digest: digest)
        }
        // The last page whose first offset is at most `offset`.
        var low = 0, high = pageStarts.count
        while low < high {
            let middle = (low + high) / 2
            if pageStarts[middle] <= offset { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return .noSection }
        let pageIndex = low - 1
        let count = min(Self.pageRecords, spilled - pageIndex * Self.pageRecords)
        let pageOffset = Int64(pageIndex * Self.pageRecords * MemoryLayout<Record>.stride)
        page = Array(repeating: Record(offset: 0, code: 0, matched: 0, digest: .zero), count: count)
        try page.withUnsafeMutableBytes { try file.read(into: $0, at: pageOffset) }
        guard let at = Self.find(offset, in: page) else { return .noSection }
        let result = Self.check(&page[at], code: code, digest: digest)
        if case .matched(first: true) = result {
            var one: UInt64 = 1
            try withUnsafeBytes(of: &one) { raw in
                try file.write(raw, at: pageOffset + Int64(at * MemoryLayout<Record>.stride + MemoryLayout<Record>.offset(of: \Record.matched)!))
            }
        }
        return result
    }

    private static func find(_ offset: UInt64, in records: [Record]) -> Int? {
        var low = 0, high = records.count
        while low < high {
            let middle = (low + high) / 2
            if records[middle].offset == offset { return middle }
            if records[middle].offset < offset { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    private static func check(_ record: inout Record, code: UInt64?, digest: UnsafeRawBufferPointer) -> Match {
        guard record.digest == key(digest), code == nil || code == record.code else { return .different(code: record.code) }
        let first = record.matched == 0
        record.matched = 1
        return .matched(first: first)
    }
}
