// Index rows (spec/blockstore.md §4, issue 15 item 6): every row the store reads from SQLite is
// untrusted input. The input encodes one row's column values as SQLite can return them (NULL,
// integer, real, text, blob, whatever the schema says); the target runs the store's one check
// of a `blocks` row (key, codec, version, pack, offset, length) or of a `pins` row (cid, name,
// recursive) on them, without SQLite. Invariants: never a crash; a row accepted holds
// integers within the ranges spec/blockstore.md §4 states (restated here as literals, not
// read from the code), its key round-trips as a multihash and the CID made of it as bytes and
// text; a row refused is `.corrupt` with one line naming it, of bounded length.
//
// Input: byte 0 even = a `blocks` row, odd = a `pins` row; then each column: a type byte
// (mod 5: NULL, integer as zigzag LEB128, real as 8 bytes, text and blob as a length byte and
// that many bytes).
@testable import BlockStore
import Foundation
import FuzzSupport
import GRDB
import Multiformats

private func value(_ input: inout InputReader) -> DatabaseValue {
    switch input.byte() % 5 {
    case 0: return .null
    case 1: return input.signed().databaseValue
    case 2:
        let bits = input.take(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Double(bitPattern: bits).databaseValue
    case 3: return String(decoding: input.take(Int(input.byte())), as: UTF8.self).databaseValue
    default: return Data(input.take(Int(input.byte()))).databaseValue
    }
}

private func integer(_ value: DatabaseValue) -> Int64? {
    if case .int64(let number) = value.storage { return number }
    return nil
}

private func requireOneLine(_ error: any Error, _ what: String) {
    guard let error = error as? BlockStoreError else {
        require(false, "\(what) threw \(type(of: error)), not BlockStoreError")
        return
    }
    require(error.code == .corrupt, "\(what): code \(error.code), not corrupt")
    require(error.message.contains("corrupt index row"), "\(what): \(error.message)")
    require(!error.message.contains(where: \.isNewline), "\(what): a message of several lines")
    require(error.message.utf8.count <= 2048, "\(what): a message of \(error.message.utf8.count) bytes")
}

private let layout = StoreLayout(root: "/fuzz/store")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIndexRow(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = InputReader(inputBytes(data, size))
    if input.byte() & 1 == 0 {
        let key = value(&input)
        let columns = (0..<5).map { _ in value(&input) }
        let multihash: Multihash
        do {
            multihash = try IndexEntry.multihash(key)
        } catch {
            requireOneLine(error, "the key")
            return 0
        }
        guard case .blob(let keyBytes) = key.storage else {
            require(false, "a key that is no blob was accepted")
            return 0
        }
        require(multihash.bytes == Array(keyBytes), "the multihash does not re-encode to the key")
        let entry: IndexEntry
        do {
            entry = try IndexEntry(codec: columns[0], version: columns[1], pack: columns[2], offset: columns[3],
                                   length: columns[4], multihash: multihash)
        } catch {
            requireOneLine(error, "a blocks row")
            return 0
        }
        let numbers = columns.compactMap(integer)
        require(numbers.count == 5, "a row with a non-integer column was accepted: \(columns)")
        let (codec, version, pack, offset, length) = (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4])
        require((0...2_147_483_647).contains(codec) && (version == 0 || version == 1) && pack >= 1 && offset >= 16
                && (0...67_108_864).contains(length), "a row out of range was accepted: \(numbers)")
        require(entry.codec == UInt64(codec) && entry.version == UInt64(version)
                && entry.location == BlockLocation(pack: pack, offset: offset, length: Int(length)), "the entry is not the row")
        require(!offset.addingReportingOverflow(length).overflow, "offset + length overflows")
        let cid = entry.cid(multihash)
        require(cid.multihash == multihash, "the CID of a row does not hold its multihash")
        require((try? CID(bytes: cid.bytes)) == cid, "the CID of a row does not round-trip as bytes")
        require((try? CID(cid.description)) == cid, "the CID of a row does not round-trip as text")
        _ = entry.location.description
    } else {
        let cid = value(&input), name = value(&input), recursive = value(&input)
        let pin: Pin
        do {
            pin = try Pin(cid: cid, name: name, recursive: recursive, layout: layout)
        } catch {
            requireOneLine(error, "a pins row")
            return 0
        }
        guard case .blob(let bytes) = cid.storage, case .string(let text) = name.storage, let flag = integer(recursive) else {
            require(false, "a pins row with a column of the wrong type was accepted")
            return 0
        }
        require(pin.cid.bytes == Array(bytes), "the pin's CID does not re-encode to the row's")
        require(flag == 0 || flag == 1, "recursive = \(flag) was accepted")
        require(pin.recursive == (flag == 1) && pin.name == (text.isEmpty ? nil : text), "the pin is not the row")
    }
    return 0
}
