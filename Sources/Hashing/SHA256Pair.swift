internal import CCairnSIMD

/// Two SHA-256 messages hashed side by side on one thread, each fed in pieces of any length:
/// the blocks both have go through the two-lane SHA-NI kernel together (about 1.7 times what
/// one lane does on the same core), the rest one lane at a time. For two serial digests that
/// one thread computes anyway, such as an OCI layer's blob digest and the digest of its
/// decompressed tar (spec/oci.md §5).
///
/// Without SHA-NI (`isAccelerated` false) the same calls work, on the portable code: callers
/// then prefer two `SHA256` (OpenSSL) hashers.
public final class SHA256Pair: @unchecked Sendable {
    /// Two `ccairn_sha256_stream`s, first then second.
    private let streams: UnsafeMutablePointer<ccairn_sha256_stream>

    /// Whether this CPU runs the two-lane kernel.
    public static var isAccelerated: Bool { ccairn_sha256_pair_accelerated() != 0 }

    public init() {
        streams = .allocate(capacity: 2)
        ccairn_sha256_stream_init(streams)
        ccairn_sha256_stream_init(streams + 1)
    }

    deinit {
        streams.deallocate()
    }

    /// Appends `first` to the first message and `second` to the second (either may be empty).
    public func update(first: UnsafeRawBufferPointer, second: UnsafeRawBufferPointer) {
        ccairn_sha256_stream_update2(
            streams, first.baseAddress?.assumingMemoryBound(to: UInt8.self), first.count,
            streams + 1, second.baseAddress?.assumingMemoryBound(to: UInt8.self), second.count)
    }

    /// The first message's digest so far.
    public var first: Digest { digest(of: streams) }

    /// The second message's digest so far.
    public var second: Digest { digest(of: streams + 1) }

    private func digest(of stream: UnsafeMutablePointer<ccairn_sha256_stream>) -> Digest {
        Digest(unsafeUninitializedCount: 32) { out in
            ccairn_sha256_stream_digest(stream, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }
}
