/// An IPFS path as Kubo's commands take one: `CID`, `/ipfs/CID`, `CID/NAME/…` or
/// `/ipfs/CID/NAME/…`, split into its first segment (the root, not yet parsed as a CID) and the
/// names below it (`UnixFSReader.resolve`).
///
/// Cleaned first as boxo's `path.NewPath` cleans one (Go's `path.Clean`, after Kubo's
/// `cmdutils.PathOrCidPath` puts `/ipfs/` before a path that lacks it): empty segments and `.`
/// go, and `..` takes away the segment before it (at the top it stays there), so
/// `CID/a/../a/x` is `CID/a/x`, `/ipfs//CID/x` is `/ipfs/CID/x`, and `CID/..` has no root.
/// Purely lexical: names inside the DAG are never cleaned or trusted by it.
public struct IPFSPath: Sendable, Hashable {
    public var root: String
    public var names: [String]

    public enum Failure: Error, Sendable, Hashable {
        /// No root once cleaned: an empty path, `/ipfs/` alone, one starting with `/` other than
        /// `/ipfs/`, or `..` climbing over the root.
        case noRoot
    }

    public init(parsing text: String) throws(Failure) {
        // Bytes, not characters: a '/' followed by a combining mark is one Character (so neither
        // `hasPrefix` nor a split on "/" would see it), and a name may begin with one.
        let bytes = Substring(text).utf8[...]
        var cleaned: [String] = bytes.first == UInt8(ascii: "/") ? [] : ["ipfs"]
        for part in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if part.elementsEqual(".".utf8) { continue }
            if part.elementsEqual("..".utf8) {
                if !cleaned.isEmpty { cleaned.removeLast() }
                continue
            }
            cleaned.append(String(decoding: part, as: UTF8.self))
        }
        guard cleaned.count >= 2, cleaned[0] == "ipfs" else { throw .noRoot }
        root = cleaned[1]
        names = Array(cleaned.dropFirst(2))
    }
}
