import CCairnSystem

/// A search for a byte string in a buffer (glibc's `memmem`: far faster than a `memchr` for
/// the first byte when that byte is common, as a CR is in random data).
public enum ByteSearch {
    /// The offset where `needle` first starts in `haystack`, or nil.
    public static func firstIndex(of needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer) -> Int? {
        guard needle.count <= haystack.count, let base = haystack.baseAddress, let pattern = needle.baseAddress else { return nil }
        let at = ccairn_find_bytes(base, haystack.count, pattern, needle.count)
        return at < 0 ? nil : at
    }
}
