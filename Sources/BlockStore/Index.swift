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

    init(row: Row) {
        codec = UInt64(bitPattern: row[0] as Int64)
        version = UInt64(bitPattern: row[1] as Int64)
        location = BlockLocation(pack: row[2], offset: row[3], length: Int(row[4] as Int64))
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
