/// The folder and the last name of a path, as text (no file-system access). Foundation's
/// `NSString.deletingLastPathComponent` traps on a one-character path ("x") in the Swift 6.3
/// toolchain here, so paths given on the command line go through this instead.
public enum PathText {
    /// The folder `path` is in: "." for a bare name, "/" for a name at the root; trailing
    /// slashes are ignored ("a/b/" is in "a").
    public static func parent(of path: String) -> String {
        var bytes = Array(path.utf8)
        while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        var end = slash
        while end > 0, bytes[end - 1] == UInt8(ascii: "/") { end -= 1 }
        return end == 0 ? "/" : String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// The last name of `path` (trailing slashes ignored); "/" for the root.
    public static func lastComponent(of path: String) -> String {
        var bytes = Array(path.utf8)
        while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        guard bytes != [UInt8(ascii: "/")] else { return "/" }
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return String(decoding: bytes, as: UTF8.self) }
        return String(decoding: bytes[(slash + 1)...], as: UTF8.self)
    }
}
