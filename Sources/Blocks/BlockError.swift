import CairnSystem

/// The one error type of the `Blocks` module: a stable code and a one-line message naming the
/// block (the pattern of `CARError` and `BlockStoreError`).
public struct BlockError: CairnError {
    /// What kind of failure it is. A struct with static members so codes can be added later.
    public struct Code: ErrorCode {
        public let rawValue: UInt8
        @inlinable init(_ raw: UInt8) { self.rawValue = raw }

        /// The bytes are not a valid block of the CID's codec (dag-pb, dag-cbor).
        public static let invalidBlock = Code(1)
        /// The bytes do not hash to the CID's multihash.
        public static let hashMismatch = Code(2)
        /// The CID's hash function (or digest length) is one Cairn cannot verify.
        public static let unsupportedHash = Code(3)

        public static let names = ["invalid block", "hash mismatch", "unsupported hash"]
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
