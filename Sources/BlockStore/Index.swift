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
        func field(_ index: Int, _ name: String, _ range: ClosedRange<Int64>) throws -> Int64 {
            guard let value = row.integer(index), range.contains(value) else {
                let shown = (row[index] as DatabaseValue).description
                throw BlockStoreError(.corrupt, "corrupt index row for block \(IndexEntry.name(multihash)): \(name) is \(shown); "
                    + "`cairn store verify` lists the damage, `cairn store repair` rebuilds the index from the packs")
            }
            return value
        }
        let codec = try field(0, "codec", 0...Int64(Int32.max))
        let version = try field(1, "version", 0...1)
        let pack = try field(2, "pack", 1...Int64(Int32.max) * 1024)
        let length = try field(4, "length", 0...Int64(PackFormat.maxBlockSize))
        let offset = try field(3, "offset", Int64(PackFormat.headerSize)...(Int64.max / 2))
        self.init(codec: UInt64(codec), version: UInt64(version),
                  location: BlockLocation(pack: pack, offset: offset, length: Int(length)))
    }

    /// The multihash key in column `column` of a row, `.corrupt` when it is not one.
    static func multihash(_ row: Row, column: Int) throws -> Multihash {
        guard let key = row.blob(column), let multihash = try? Multihash(bytes: key) else {
            throw BlockStoreError(.corrupt, "corrupt index row in blocks: its key \((row[column] as DatabaseValue).description) is not a multihash; "
                + "`cairn store repair` rebuilds the index from the packs")
        }
        return multihash
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
