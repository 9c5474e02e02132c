internal import CCairnSIMD

/// A fast 128-bit non-cryptographic hash: the dedup key of `cairn bench chunkers`
/// (spec/cli.md, "Dedup key"). NH-style accumulation (UMAC, XXH3) over 64-byte stripes,
/// AVX2 when the CPU has it, the same value from the portable kernel. Not for anything an
/// adversary chooses: collisions can be built on purpose.
public enum Key128 {
    /// The key of `bytes`; `simd: false` forces the portable kernel (tests compare the two).
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer, simd: Bool = true) -> (UInt64, UInt64) {
        hashOpaque(bytes, simd: simd)
    }

    @usableFromInline
    static func hashOpaque(_ bytes: UnsafeRawBufferPointer, simd: Bool) -> (UInt64, UInt64) {
        var out = (UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &out) { raw in
            ccairn_key128(bytes.baseAddress, bytes.count, simd ? 1 : 0, raw.baseAddress!.assumingMemoryBound(to: UInt64.self))
        }
        return out
    }

    /// Whether the AVX2 kernel runs here.
    public static var simdSupported: Bool { ccairn_key128_simd_supported() != 0 }
}
