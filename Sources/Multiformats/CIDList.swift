/// CIDs kept in their binary form, back to back: about 40 bytes for a sha2-256 CIDv1, where a
/// `CID` value takes 104 (its digest is held inline). For lists as long as a DAG (a push's
/// blocks, the blocks it uploads): 263 661 CIDs in an array of `CID` are 27 MB, here 10 MB.
/// Reading one decodes it.
public struct CIDList: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral {
    /// The binary CIDs, back to back.
    private var bytes: [UInt8] = []
    /// Where each CID ends in `bytes`.
    private var ends: [UInt32] = []

    public init() {}

    public init(_ cids: some Sequence<CID>) {
        for cid in cids { append(cid) }
    }

    public init(arrayLiteral cids: CID...) { self.init(cids) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { ends.count }

    public subscript(position: Int) -> CID {
        withEncoded(position) { raw in
            // Written by `append` from a valid CID: it decodes.
            do { return try CID.decode(prefixOf: raw).cid } catch { preconditionFailure("CIDList holds an invalid CID: \(error)") }
        }
    }

    /// The binary form of the CID at `position`.
    public func withEncoded<R>(_ position: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = position == 0 ? 0 : Int(ends[position - 1]), end = Int(ends[position])
        return try bytes.withUnsafeBytes { raw in try body(UnsafeRawBufferPointer(rebasing: raw[start..<end])) }
    }

    /// The length of the binary form of the CID at `position`.
    public func encodedLength(at position: Int) -> Int {
        Int(ends[position]) - (position == 0 ? 0 : Int(ends[position - 1]))
    }

    public mutating func append(_ cid: CID) {
        let at = bytes.count, n = cid.encodedLength
        precondition(at + n <= Int(UInt32.max), "CIDList over 4 GiB of CIDs")
        bytes.append(contentsOf: repeatElement(0, count: n))
        bytes.withUnsafeMutableBytes { raw in
            _ = cid.encode(to: UnsafeMutableRawBufferPointer(rebasing: raw[at..<(at + n)]))
        }
        ends.append(UInt32(at + n))
    }

    /// Appends the CID at `position` of `other`, copied in its binary form (no decoding).
    public mutating func append(_ other: CIDList, at position: Int) {
        other.withEncoded(position) { encoded in
            precondition(bytes.count + encoded.count <= Int(UInt32.max), "CIDList over 4 GiB of CIDs")
            bytes.append(contentsOf: encoded)
        }
        ends.append(UInt32(bytes.count))
    }

    /// Room for `count` CIDs of about `bytesEach` bytes.
    public mutating func reserveCapacity(_ count: Int, bytesEach: Int = 36) {
        ends.reserveCapacity(count)
        bytes.reserveCapacity(count * bytesEach)
    }
}
