/// An IPFS path as Kubo's commands take one: `CID`, `/ipfs/CID`, `CID/NAME/…` or
/// `/ipfs/CID/NAME/…`, split into its first segment (the root, not yet parsed as a CID) and the
/// names below it (`UnixFSReader.resolve`). Empty segments are skipped.
public struct IPFSPath: Sendable, Hashable {
    public var root: String
    public var names: [String]

    public enum Failure: Error, Sendable, Hashable {
        /// No root: an empty path, `/ipfs/` alone, or one starting with `/` other than `/ipfs/`.
        case noRoot
        /// A name is `.` or `..`.
        case dotName
    }

    public init(parsing text: String) throws(Failure) {
        // Bytes, not characters: a '/' followed by a combining mark is one Character (so neither
        // `hasPrefix` nor a split on "/" would see it), and a name may begin with one.
        var rest = Substring(text).utf8[...]
        if rest.starts(with: "/ipfs/".utf8) { rest = rest.dropFirst("/ipfs/".utf8.count) }
        let parts = rest.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
        guard let first = parts.first, rest.first != UInt8(ascii: "/") else { throw .noRoot }
        let names = Array(parts.dropFirst())
        guard !names.contains(where: { $0 == "." || $0 == ".." }) else { throw .dotName }
        root = first
        self.names = names
    }
}
