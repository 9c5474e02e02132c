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

    var databasePath: String { root + "/index.sqlite" }
    var lockPath: String { root + "/lock" }
    var packsPath: String { root + "/packs" }
    var formatPath: String { root + "/FORMAT" }

    func packPath(_ id: Int64) -> String {
        packsPath + "/" + PackFormat.fileName(id)
    }
}

/// The pack file format: an 16-byte header, then records `u32le length | CID | block`.
enum PackFormat {
    /// `CAIRNPK` and the pack format version byte.
    static let magic: [UInt8] = Array("CAIRNPK".utf8) + [1]
    static let headerSize = 16
    /// Record framing: a little-endian u32 with the length of CID + block.
    static let recordHeaderSize = 4
    /// The largest block accepted (far above Kubo's 2 MiB bitswap limit; keeps a record
    /// length in a u32 and every block in memory cheap).
    public static let maxBlockSize = 64 << 20
    /// A pack is closed to appends once it reaches this size; the next batch starts a new one.
    static let targetPackSize: Int64 = 256 << 20

    static var header: [UInt8] {
        magic + [UInt8](repeating: 0, count: headerSize - magic.count)
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
        guard !stem.isEmpty, stem.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(stem)
    }
}

/// The store format version this code writes and reads.
public let blockStoreFormatVersion = 1
