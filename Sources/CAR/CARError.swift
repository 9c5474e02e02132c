import Blocks
@_exported public import CairnErrors
import CairnSystem
/// The one error type of the `CAR` module (swift-system style: a stable code and a one-line
/// message). `offset`, when present, is the byte offset in the CAR file (not the data payload)
/// where the problem was found.
public struct CARError: CairnError {
    /// What kind of failure it is. A struct with static members so codes can be added later.
    public struct Code: ErrorCode {
        public let rawValue: UInt8
        @inlinable init(_ raw: UInt8) { self.rawValue = raw }

        /// The input ended inside the header, a section or the index.
        public static let truncated = Code(1)
        /// The header (CARv1 dag-cbor map, CARv2 pragma or 40-byte header) is malformed.
        public static let invalidHeader = Code(2)
        /// A section length varint, CID or layout is malformed.
        public static let invalidSection = Code(3)
        /// A block's bytes do not hash to its CID.
        public static let hashMismatch = Code(4)
        /// A header, section or block is over its size limit.
        public static let limitExceeded = Code(5)
        /// A header root is not in the CAR.
        public static let missingRoot = Code(6)
        /// A block reachable from a root is not in the CAR (`--complete`).
        public static let incompleteDAG = Code(7)
        /// The CARv2 index is malformed or disagrees with the data payload.
        public static let invalidIndex = Code(8)
        /// A hash function or codec Cairn cannot check.
        public static let unsupported = Code(9)
        /// Reading or writing the file failed.
        public static let io = Code(10)
        /// The writer was used wrongly (for example a root of another length than the placeholder).
        public static let invalidUse = Code(11)
        /// A CID Kubo refuses as insecure (a weak hash function or a truncated digest).
        public static let insecureCID = Code(12)

        public static let names = [
            "truncated", "invalid header", "invalid section", "hash mismatch", "limit exceeded",
            "missing root", "incomplete DAG", "invalid index", "unsupported", "I/O error",
            "invalid use", "insecure CID",
        ]
    }

    public let code: Code
    public let message: String
    public let offset: UInt64?

    public init(_ code: Code, _ message: String, offset: UInt64? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    /// One line: `<message> (at byte N)`.
    public var description: String {
        if let offset { return "\(message) (at byte \(offset))" }
        return message
    }
}

extension CARError {
    /// A block-layer failure as the CAR module reports it: a mismatch stays a mismatch, an
    /// unverifiable hash is `.unsupported`, an undecodable block an invalid section.
    init(_ error: BlockError, offset: UInt64? = nil) {
        let code: Code
        switch error.code {
        case .hashMismatch: code = .hashMismatch
        case .unsupportedHash: code = .unsupported
        default: code = .invalidSection
        }
        self.init(code, error.message, offset: offset)
    }
}
