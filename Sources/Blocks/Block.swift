public import Multiformats

/// A block: a CID and the bytes it names, owned. The value modules hand each other where a
/// block outlives the call (collected import output, blocks read back); the importer's hot
/// path passes the borrowed `BlockBytes` to its sink instead, without a copy.
public struct Block: Hashable, Sendable {
    public var cid: CID
    public var bytes: [UInt8]

    public init(cid: CID, bytes: [UInt8]) {
        self.cid = cid
        self.bytes = bytes
    }

    /// Checks the bytes against the CID (`BlockVerifier`); throws `hashMismatch` or
    /// `unsupportedHash`.
    public func verify() throws(BlockError) {
        let verdict = bytes.withUnsafeBytes { BlockVerifier.verdict(cid, $0) }
        try BlockVerifier.throwing(verdict, cid, count: bytes.count)
    }
}
