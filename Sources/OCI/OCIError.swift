@_exported public import CairnErrors

/// The one error type of the `OCI` module (spec/oci.md, spec/api.md §4): a closed `code` and a
/// one-line `message` naming the layout, the blob, and what was expected and found.
public typealias OCIError = CairnFailure<OCIErrorCode>

/// The kinds of `OCIError` (its `Code`).
public struct OCIErrorCode: ErrorCode {
    public let rawValue: UInt8
    init(_ raw: UInt8) { self.rawValue = raw }

    /// Not a layout or archive Cairn reads: no `oci-layout`/`index.json` or `manifest.json`,
    /// malformed JSON, a bad digest string, an unsafe path.
    public static let invalidLayout = OCIErrorCode(1)
    /// A blob's size, digest or uncompressed digest (`diff_id`) is not the one declared.
    public static let mismatch = OCIErrorCode(2)
    /// A blob the layout refers to is not in it.
    public static let missingBlob = OCIErrorCode(3)
    /// A gzip or zstd stream is damaged or truncated.
    public static let badCompression = OCIErrorCode(4)
    /// A tar stream is malformed, truncated, or past a limit (a tar bomb).
    public static let badTar = OCIErrorCode(5)
    /// A file-system call failed.
    public static let io = OCIErrorCode(6)

    public static let names = [
        "invalidLayout", "mismatch", "missingBlob", "badCompression", "badTar", "io",
    ]
}
