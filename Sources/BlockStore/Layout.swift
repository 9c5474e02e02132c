import Multiformats

import CairnSystem

/// Where a store's files live, and the constants of the on-disk format (`spec/blockstore.md`).
public struct StoreLayout: Sendable, Hashable {
    /// The store's root directory.
    public let root: String

    public init(root: String) {
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    /// `--store PATH` if given, else `$CAIRN_HOME`, else `~/.cairn`.
    public static func resolve(explicit: String?, environment: [String: String]) -> StoreLayout {
        if let explicit, !explicit.isEmpty { return StoreLayout(root: explicit) }
        if let home = environment["CAIRN_HOME"], !home.isEmpty { return StoreLayout(root: home) }
        let userHome = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "."
        return StoreLayout(root: userHome + "/.cairn")
    }

    /// The index (spec/blockstore.md §2); SQLite keeps its WAL beside it, with `-wal` appended.
    public var databasePath: String { root + "/index.sqlite" }
    var lockPath: String { root + "/lock" }
    var packsPath: String { root + "/packs" }
    var formatPath: String { root + "/FORMAT" }

    func packPath(_ id: Int64) -> String {
        packsPath + "/" + PackFormat.fileName(id)
    }
}

/// The pack file format (spec/blockstore.md §3): a 16-byte header naming the pack format, then
/// records. Format 1: `u32le L | CID | block`; format 2 (what this code writes):
/// `u32le L | u32le CRC-32C(L bytes ‖ CID bytes) | CID | block`, L = length of CID + block.
enum PackFormat {
    /// `CAIRNPK`, followed by the pack format version byte.
    static let magicPrefix: [UInt8] = Array("CAIRNPK".utf8)
    /// The format new packs get; format 1 packs stay readable.
    static let currentVersion: UInt8 = 2
    static let readableVersions: ClosedRange<UInt8> = 1...2
    static let headerSize = 16
    /// The largest block accepted (far above Kubo's 2 MiB bitswap limit; keeps a record
    /// length in a u32 and every block in memory cheap).
    public static let maxBlockSize = 64 << 20
    /// A pack is closed to appends once it reaches this size; the next batch starts a new one.
    static let targetPackSize: Int64 = 256 << 20

    /// Record framing before the CID: the length, and in format 2 the header checksum.
    static func recordHeaderSize(version: UInt8) -> Int { version >= 2 ? 8 : 4 }

    static var header: [UInt8] {
        magicPrefix + [currentVersion] + [UInt8](repeating: 0, count: headerSize - magicPrefix.count - 1)
    }

    /// The pack format version a 16-byte header names, nil if it is no pack header.
    static func version(ofHeader header: [UInt8]) -> UInt8? {
        guard header.count >= headerSize, Array(header.prefix(magicPrefix.count)) == magicPrefix,
              readableVersions.contains(header[magicPrefix.count]) else { return nil }
        return header[magicPrefix.count]
    }

    /// The checksum of a format-2 record header: CRC-32C of the 4 length bytes then the CID.
    static func headerChecksum(length: UnsafeRawBufferPointer, cid: UnsafeRawBufferPointer) -> UInt32 {
        CRC32C.update(CRC32C.update(0, length), cid)
    }

    static func fileName(_ id: Int64) -> String {
        var digits = String(id)
        while digits.count < 8 { digits = "0" + digits }
        return digits + ".pack"
    }

    /// The pack id of a file name `NNNNNNNN.pack`, nil for any other name.
    static func id(ofFileName name: String) -> Int64? {
        guard name.hasSuffix(".pack") else { return nil }
        let stem = name.dropLast(5)
        guard !stem.isEmpty, stem.allSatisfy({ $0.isASCII && $0.isNumber }),
              let id = Int64(stem), IndexEntry.packRange.contains(id) else { return nil }
        return id  // an id no index row could name is not a pack (nor a number to add 1 to)
    }
}

/// The store format version this code writes and reads.
public let blockStoreFormatVersion = 1
