/// Whole chunks for the portable `BLAKE3`: `hashChunks` hashes `count` whole chunks found at
/// `input + i * 1024`, chunk `i` with counter `counter + i`, none of them a root, and writes
/// chaining value `i` to `out[i]`, one chunk at a time with scalar compression. (The SIMD
/// kernels live in CCairnSIMD, behind `BLAKE3SIMD`.)
enum PortableBLAKE3Kernel {
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
