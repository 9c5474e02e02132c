import Foundation
import GRDB
import Multiformats

/// The SQLite schema (format version 1) and the queries the store runs on it.
enum IndexSchema {
    static let statements: [String] = [
        """
        CREATE TABLE IF NOT EXISTS meta(
            key TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE IF NOT EXISTS blocks(
            mh BLOB PRIMARY KEY NOT NULL,
            codec INTEGER NOT NULL,
            version INTEGER NOT NULL,
            pack INTEGER NOT NULL,
            offset INTEGER NOT NULL,
            length INTEGER NOT NULL
        ) WITHOUT ROWID
        """,
        "CREATE INDEX IF NOT EXISTS blocks_by_location ON blocks(pack, offset)",
        """
        CREATE TABLE IF NOT EXISTS packs(
            id INTEGER PRIMARY KEY NOT NULL,
            size INTEGER NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS pins(
            cid BLOB NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            recursive INTEGER NOT NULL,
            PRIMARY KEY(cid, name)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX IF NOT EXISTS pins_by_name ON pins(name)",
    ]
}

/// Where a block's bytes are.
public struct BlockLocation: Hashable, Sendable, CustomStringConvertible {
    public var pack: Int64
    /// Offset of the block's first byte in the pack file.
    public var offset: Int64
    public var length: Int

    public var description: String { "pack \(PackFormat.fileName(pack)) offset \(offset) length \(length)" }
}

/// An index row.
struct IndexEntry: Sendable {
    var codec: UInt64
    var version: UInt64
    var location: BlockLocation

    static let columns = "codec, version, pack, offset, length"

    /// Decodes `codec, version, pack, offset, length` (columns 0–4) of the row of `multihash`,
    /// checking each is an integer in its range: a damaged row is `.corrupt`, naming it.
    init(row: Row, multihash: Multihash) throws {
        try self.init(codec: row[0], version: row[1], pack: row[2], offset: row[3], length: row[4], multihash: multihash)
    }

    /// The ranges a row's fields must lie in (spec/blockstore.md §4).
    static let codecRange: ClosedRange<Int64> = 0...Int64(Int32.max)
    static let versionRange: ClosedRange<Int64> = 0...1
    static let packRange: ClosedRange<Int64> = 1...Int64(Int32.max) * 1024
    static let offsetRange: ClosedRange<Int64> = Int64(PackFormat.headerSize)...(Int64.max / 2)
    static let lengthRange: ClosedRange<Int64> = 0...Int64(PackFormat.maxBlockSize)

    /// The one check of a `blocks` row, over its column values as SQLite returned them (NULL,
    /// text, real or blob where an integer belongs included): every read of a row goes through
    /// it (`IndexLookups` too), and the `index-row` fuzz target calls it directly.
    init(codec: DatabaseValue, version: DatabaseValue, pack: DatabaseValue, offset: DatabaseValue, length: DatabaseValue,
         multihash: Multihash) throws {
        func field(_ value: DatabaseValue, _ name: String, _ range: ClosedRange<Int64>) throws -> Int64 {
            guard case .int64(let number) = value.storage, range.contains(number) else {
                throw BlockStoreError(.corrupt, "corrupt index row for block \(IndexEntry.name(multihash)): \(name) is \(IndexEntry.shown(value)); "
                    + "`cairn store verify` lists the damage, `cairn store repair` rebuilds the index from the packs")
            }
            return number
        }
        let codec = try field(codec, "codec", IndexEntry.codecRange)
        let version = try field(version, "version", IndexEntry.versionRange)
        let pack = try field(pack, "pack", IndexEntry.packRange)
        let length = try field(length, "length", IndexEntry.lengthRange)
        let offset = try field(offset, "offset", IndexEntry.offsetRange)
        self.init(codec: UInt64(codec), version: UInt64(version),
                  location: BlockLocation(pack: pack, offset: offset, length: Int(length)))
    }

    /// The multihash key in column `column` of a row, `.corrupt` when it is not one.
    static func multihash(_ row: Row, column: Int) throws -> Multihash {
        try multihash(row[column])
    }

    /// The multihash a row's key holds, `.corrupt` when it is not one.
    static func multihash(_ key: DatabaseValue) throws -> Multihash {
        guard case .blob(let bytes) = key.storage, let multihash = try? Multihash(bytes: bytes) else {
            throw BlockStoreError(.corrupt, "corrupt index row in blocks: its key \(IndexEntry.shown(key)) is not a multihash; "
                + "`cairn store repair` rebuilds the index from the packs")
        }
        return multihash
    }

    /// A column value as an error message shows it: on one line, at most 80 characters of a
    /// text (a damaged index can hold any text, megabytes included), quoted, with every control
    /// character and line or paragraph separator escaped (`\u{85}`: NEL, U+2028 and U+2029
    /// end lines too; found by the `index-row` fuzz target).
    static func shown(_ value: DatabaseValue) -> String {
        guard case .string(let text) = value.storage else { return value.description }
        var shown = "\""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == 80 {
                shown += "…"
                break
            }
            count += 1
            switch scalar {
            case "\"": shown += "\\\""
            case "\\": shown += "\\\\"
            default:
                switch scalar.properties.generalCategory {
                case .control, .lineSeparator, .paragraphSeparator, .format:
                    shown += "\\u{" + String(scalar.value, radix: 16) + "}"
                default:
                    shown.unicodeScalars.append(scalar)
                }
            }
        }
        return shown + "\""
    }

    /// How a row is named in errors: its CIDv1 (raw) form, which shows the multihash.
    static func name(_ multihash: Multihash) -> String {
        CID.v1(codec: .raw, multihash: multihash).description + " (multihash of the row)"
    }

    init(codec: UInt64, version: UInt64, location: BlockLocation) {
        self.codec = codec
        self.version = version
        self.location = location
    }

    func cid(_ multihash: Multihash) -> CID {
        if version == 0, let v0 = try? CID.v0(multihash) { return v0 }
        return CID.v1(codec: Multicodec(rawValue: codec) ?? .raw, multihash: multihash)
    }
}

extension Multihash {
    /// The index key: the multihash's binary form.
    var key: Data { Data(bytes) }
}
