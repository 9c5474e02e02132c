/// The seam for BLAKE3 speed-ups: a kernel hashes many whole, independent 1024-byte chunks
/// (laid out back to back) into their chaining values.
///
/// Chunks of one message are independent until the tree merge, so a SIMD kernel can run one
/// chunk per lane (4 lanes with SSE4.1, 8 with AVX2, 16 with AVX-512) and transpose the
/// message words once per block. A later issue adds those kernels and picks one at run time;
/// `BLAKE3` only talks to `ActiveBLAKE3Kernel`.
protocol BLAKE3Kernel {
    /// How many chunks the caller should hand over per call (a multiple of the lane count).
    static var preferredChunks: Int { get }

    /// Hashes `count` whole chunks found at `input + i * 1024`, chunk `i` with counter
    /// `counter + i`, none of them a root, and writes chaining value `i` to `out[i]`.
    static func hashChunks(
        _ input: UnsafeRawPointer, count: Int, key: ChainingValue, counter: UInt64, flags: UInt32,
        out: UnsafeMutablePointer<ChainingValue>)
}

/// The kernel in use.
typealias ActiveBLAKE3Kernel = PortableBLAKE3Kernel

/// One chunk at a time, scalar compression.
enum PortableBLAKE3Kernel: BLAKE3Kernel {
    static var preferredChunks: Int { 16 }

    static func hashChunks(
        _ input: UnsafeRawPointer, count: Int, key: ChainingValue, counter: UInt64, flags: UInt32,
        out: UnsafeMutablePointer<ChainingValue>
    ) {
        for chunk in 0..<count {
            let base = input + chunk * BLAKE3Constants.chunkLength
            let chunkCounter = counter &+ UInt64(chunk)
            var cv = key
            cv = BLAKE3Compress.chainingValue(
                cv, BLAKE3Words(loading: base), counter: chunkCounter, blockLength: 64,
                flags: flags | BLAKE3Constants.chunkStart)
            for block in 1..<15 {
                cv = BLAKE3Compress.chainingValue(
                    cv, BLAKE3Words(loading: base + block * 64), counter: chunkCounter, blockLength: 64,
                    flags: flags)
            }
            cv = BLAKE3Compress.chainingValue(
                cv, BLAKE3Words(loading: base + 15 * 64), counter: chunkCounter, blockLength: 64,
                flags: flags | BLAKE3Constants.chunkEnd)
            out[chunk] = cv
        }
    }
}
