@_exported public import CairnErrors

/// The one error type of the `Blocks` module: a stable code and a one-line message naming the
/// block (the pattern of `CARError` and `BlockStoreError`).
public typealias BlockError = CairnFailure<BlockErrorCode>

/// What kind of failure it is. A struct with static members so codes can be added later.
public struct BlockErrorCode: ErrorCode {
    public let rawValue: UInt8
    @inlinable init(_ raw: UInt8) { self.rawValue = raw }

    /// The bytes are not a valid block of the CID's codec (dag-pb, dag-cbor).
    public static let invalidBlock = BlockErrorCode(1)
    /// The bytes do not hash to the CID's multihash.
    public static let hashMismatch = BlockErrorCode(2)
    /// The CID's hash function (or digest length) is one Cairn cannot verify.
    public static let unsupportedHash = BlockErrorCode(3)

    public static let names = ["invalid block", "hash mismatch", "unsupported hash"]
}
