import CairnSystem

/// The one error type of the `OCI` module (spec/oci.md, spec/api.md §4): a closed `code` and a
/// one-line `message` naming the layout, the blob, and what was expected and found.
public struct OCIError: CairnError {
    public struct Code: ErrorCode {
        public let rawValue: UInt8
        init(_ raw: UInt8) { self.rawValue = raw }

        /// Not a layout or archive Cairn reads: no `oci-layout`/`index.json` or `manifest.json`,
        /// malformed JSON, a bad digest string, an unsafe path.
        public static let invalidLayout = Code(1)
        /// A blob's size, digest or uncompressed digest (`diff_id`) is not the one declared.
        public static let mismatch = Code(2)
        /// A blob the layout refers to is not in it.
        public static let missingBlob = Code(3)
        /// A gzip or zstd stream is damaged or truncated.
        public static let badCompression = Code(4)
        /// A tar stream is malformed, truncated, or past a limit (a tar bomb).
        public static let badTar = Code(5)
        /// A file-system call failed.
        public static let io = Code(6)

        public static let names = [
            "invalidLayout", "mismatch", "missingBlob", "badCompression", "badTar", "io",
        ]
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
