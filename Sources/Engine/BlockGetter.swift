public import Multiformats
public import BlockStore

/// Where the exporter reads blocks from: the store, or anything else that can hand a block
/// over by CID (a CAR, a network peer).
public protocol BlockGetter: Sendable {
    /// The bytes of `cid`, or nil when the getter does not have it. With `verified`, the bytes
    /// have been checked against the CID; without, the caller checks them.
    func block(_ cid: CID, verified: Bool) throws -> [UInt8]?

    /// The bytes of `cid` borrowed in place, unverified, valid as long as the getter lives;
    /// nil when they cannot be borrowed (the caller then falls back to `block(_:verified:)`).
    func borrowedBlock(_ cid: CID) throws -> UnsafeRawBufferPointer?
}

extension BlockGetter {
    public func borrowedBlock(_ cid: CID) throws -> UnsafeRawBufferPointer? { nil }
}

extension BlockStore: BlockGetter {
    public func block(_ cid: CID, verified: Bool) throws -> [UInt8]? {
        try getIfPresent(cid, verify: verified)
    }

    public func borrowedBlock(_ cid: CID) throws -> UnsafeRawBufferPointer? {
        try unverifiedBytes(of: cid)
    }
}
