// Pack records (spec/blockstore.md §3, §11): the input is a whole pack file. `PackFile(bytes:)`
// reads it through the same record parser and resyncing walk that recovery, `store verify` and
// `store repair` run over a file (only the read primitive differs), so no file I/O and no
// SQLite per input. Invariants: never a crash; every record the walk hands out is framed as
// the spec says (u32le length, in format 2 a CRC-32C recomputed here bit by bit, the CID's
// exact bytes, the block) and its block hashes to its CID (hashed here one-shot); records and
// skipped ranges tile the pack from offset 16 without gaps or overlaps; the walk without
// resync is the resyncing walk's first run; `record(at:)` agrees with the walk, and is well
// framed or nil at the first 48 offsets and next to each record; the verify check accepts each
// record against its own row and refuses a row one byte longer.
@testable import BlockStore
import FuzzSupport
import Hashing
import Multiformats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPackRecord(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = inputBytes(data, size)
    let pack = PackFile(bytes: bytes)
    require(pack.size == Int64(bytes.count), "size \(pack.size) of \(bytes.count) bytes")
    let magic = Array("CAIRNPK".utf8)
    let expectedVersion: UInt8? = bytes.count >= 16 && Array(bytes[0..<7]) == magic && (bytes[7] == 1 || bytes[7] == 2) ? bytes[7] : nil
    require(pack.version == expectedVersion, "version \(String(describing: pack.version)) for header \(bytes.prefix(8))")

    // Point reads at the first offsets (the walk's resync parses every offset itself): a
    // record found there is framed as the spec says.
    for offset in 0..<min(bytes.count, 48) {
        if let record = try? pack.record(at: Int64(offset)) { checkFraming(record, bytes, pack.version) }
    }
    _ = try? pack.record(at: -1)
    _ = try? pack.record(at: Int64(bytes.count))
    _ = try? pack.record(at: .max)

    // The resyncing walk (store repair).
    var records: [PackRecord] = []
    var pieces: [(range: Range<Int64>, record: Bool)] = []
    let end: Int64
    do {
        end = try pack.walk(from: 16, resync: true, { record, block in
            checkFraming(record, bytes, pack.version)
            require(block.count == record.length && block[...] == bytes[Int(record.blockOffset)..<Int(record.end)],
                    "the block handed out is not the record's bytes")
            requireHashMatches(record.cid, block)
            records.append(record)
            pieces.append((record.start..<record.end, true))
        }, skipped: { range in pieces.append((range, false)) })
    } catch {
        require(false, "a walk over memory threw \(error)")
        return 0
    }
    guard pack.version != nil else {
        // No header: no record, and whatever follows offset 16 is one skipped range.
        require(records.isEmpty && end == 16, "a walk over bytes that are no pack found a record")
        require(pieces.map(\.range) == (bytes.count > 16 ? [16..<Int64(bytes.count)] : []),
                "a walk over bytes that are no pack skipped \(pieces.map(\.range))")
        return 0
    }
    var position: Int64 = 16
    for piece in pieces {
        require(piece.range.lowerBound == position && !piece.range.isEmpty, "walk pieces \(pieces) leave a gap or overlap at \(position)")
        position = piece.range.upperBound
    }
    require(position == max(16, Int64(bytes.count)), "the resyncing walk accounts for bytes up to \(position) of \(bytes.count)")
    require(end == (records.last?.end ?? 16), "the walk returns \(end), its last record ends at \(records.last?.end ?? 16)")

    // Without resync (recovery): the first run of records, then stop.
    let firstRun = pieces.prefix { $0.record }.count
    var plain: [PackRecord] = []
    let plainEnd = (try? pack.walk(from: 16, resync: false) { record, _ in plain.append(record) }) ?? -1
    require(plain.count == firstRun && zip(plain, records).allSatisfy { same($0, $1) },
            "the walk without resync found \(plain.count) records, the first run has \(firstRun)")
    require(plainEnd == (plain.last?.end ?? 16), "the walk without resync returns \(plainEnd)")

    // Point reads and the verify check agree with the walk.
    for record in records.prefix(64) {
        let again = try? pack.record(at: record.start)
        require(again.map { same($0, record) } == true, "record(at: \(record.start)) differs from the walk's record")
        for near in [record.start - 1, record.start + 1, record.end - 1] {
            if let other = try? pack.record(at: near) { checkFraming(other, bytes, pack.version) }
        }
        let location = BlockLocation(pack: 1, offset: record.blockOffset, length: record.length)
        let problem = try? BlockStore.recordHeaderProblem(pack, cid: record.cid, location: location)
        require(problem == .some(nil), "verify refuses a record against its own row: \(String(describing: problem))")
        var longer = location
        longer.length += 1
        let refused = try? BlockStore.recordHeaderProblem(pack, cid: record.cid, location: longer)
        require(refused != nil && refused! != nil, "verify accepts a row one byte longer than its record")
    }
    return 0
}

private func same(_ a: PackRecord, _ b: PackRecord) -> Bool {
    a.cid == b.cid && a.start == b.start && a.blockOffset == b.blockOffset && a.length == b.length && a.end == b.end
}

/// The record's framing, read back from the input (spec/blockstore.md §3): format 1
/// `u32le L | CID | block`, format 2 `u32le L | u32le CRC-32C(L bytes ‖ CID) | CID | block`.
private func checkFraming(_ record: PackRecord, _ bytes: [UInt8], _ version: UInt8?) {
    guard let version else { require(false, "a record in bytes that are no pack"); return }
    let start = Int(record.start)
    let headerSize = version >= 2 ? 8 : 4
    require(start >= 16 && record.end <= Int64(bytes.count) && record.length >= 0, "record \(record.start)..<\(record.end) outside the pack")
    let total = Int(bytes[start]) | Int(bytes[start + 1]) << 8 | Int(bytes[start + 2]) << 16 | Int(bytes[start + 3]) << 24
    require(Int64(start + headerSize + total) == record.end, "length field \(total) does not give the record's end")
    let cid = record.cid.bytes
    require(record.blockOffset == Int64(start + headerSize + cid.count), "the block does not start right after the CID")
    require(Array(bytes[(start + headerSize)..<(start + headerSize + cid.count)]) == cid, "the CID's bytes are not the record's")
    require(record.length == total - cid.count, "length \(record.length), framing \(total) - \(cid.count)")
    if version >= 2 {
        let stored = UInt32(bytes[start + 4]) | UInt32(bytes[start + 5]) << 8 | UInt32(bytes[start + 6]) << 16 | UInt32(bytes[start + 7]) << 24
        require(stored == crc32c(Array(bytes[start..<(start + 4)]) + cid), "a record whose header checksum does not match")
    }
}

/// CRC-32C bit by bit (reflected polynomial 0x82F63B78, RFC 3720 §12.1), not the store's table.
private func crc32c(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }
    return ~crc
}

/// Hashes the block on its own (one-shot) and compares with its CID.
private func requireHashMatches(_ cid: CID, _ bytes: [UInt8]) {
    let multihash = cid.multihash
    guard let algorithm = HashAlgorithm(multihashCode: multihash.code.rawValue) else {
        require(false, "the walk accepted a block with unsupported hash \(multihash.code)")
        return
    }
    let digest = bytes.withUnsafeBytes { algorithm.hash($0).bytes }
    if algorithm == .identity {
        require(digest == multihash.digest, "identity CID \(cid) does not hold the block's bytes")
    } else {
        require(multihash.length <= digest.count && Array(digest.prefix(multihash.length)) == multihash.digest,
                "block \(cid) does not hash to its CID")
    }
}
