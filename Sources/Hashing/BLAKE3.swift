/// BLAKE3 (BLAKE3 specification, O'Connor, Aumasson, Neves, Wilcox-O'Hearn, 2020), written in
/// portable Swift: neither OpenSSL 3.0 nor libsodium provides it.
///
/// Layout: the input is split into 1024-byte chunks, each made of sixteen 64-byte blocks that
/// are compressed in sequence (first block flagged CHUNK_START, last CHUNK_END). Each chunk
/// yields a 32-byte chaining value; chaining values are merged pairwise into a binary tree
/// (left subtree always a full power-of-two number of chunks) with PARENT compressions, and the
/// root node is compressed once more with ROOT, whose output (extendable by a block counter)
/// is the hash. See `spec/hashing.md`.
///
/// This is the portable reference (and the keyed and extended-output modes). The plain hash that
/// `HashAlgorithm.blake3` computes runs on Cairn's SIMD kernels instead (`BLAKE3SIMD`).
public struct BLAKE3: HashFunction {
    public static var algorithm: HashAlgorithm { .blake3 }

    /// The default (and multihash) output length.
    public static let digestByteCount = 32

    let key: ChainingValue
    let baseFlags: UInt32

    // The chunk being filled.
    var chunkCV: ChainingValue
    var chunkCounter: UInt64 = 0
    var block = BLAKE3Words()
    var blockLength = 0
    var blocksCompressed = 0

    // Chaining values of completed subtrees, left to right (a stack; see `pushChunkCV`).
    var stack = BLAKE3CVStack()

    /// An unkeyed BLAKE3 hasher.
    public init() {
        key = BLAKE3Constants.iv
        baseFlags = 0
        chunkCV = key
    }

    /// A keyed BLAKE3 hasher (`keyed_hash` mode). `key` must be exactly 32 bytes.
    public init(key: [UInt8]) {
        precondition(key.count == 32, "a BLAKE3 key is 32 bytes")
        let words = key.withUnsafeBytes { raw in
            ChainingValue((0..<8).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) })
        }
        self.key = words
        baseFlags = BLAKE3Constants.keyedHash
        chunkCV = words
    }

    @inline(__always)
    var chunkLength: Int { blocksCompressed * BLAKE3Constants.blockLength + blockLength }

    @inline(__always)
    var startFlag: UInt32 { blocksCompressed == 0 ? BLAKE3Constants.chunkStart : 0 }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var pointer = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            // The current chunk is full and more input follows, so it is not the last one.
            if chunkLength == BLAKE3Constants.chunkLength {
                let cv = chunkOutput().chainingValue()
                pushChunkCV(cv, totalChunks: chunkCounter + 1)
                resetChunk(counter: chunkCounter + 1)
            }
            // Fast path: whole chunks straight from the input through the kernel, keeping at
            // least one byte back so the final chunk always goes through the chunk state.
            if chunkLength == 0 && remaining > BLAKE3Constants.chunkLength {
                let whole = (remaining - 1) / BLAKE3Constants.chunkLength
                hashWholeChunks(pointer, count: whole)
                pointer += whole * BLAKE3Constants.chunkLength
                remaining -= whole * BLAKE3Constants.chunkLength
                continue
            }
            let take = min(BLAKE3Constants.chunkLength - chunkLength, remaining)
            updateChunk(pointer, count: take)
            pointer += take
            remaining -= take
        }
    }

    /// The 32-byte digest.
    public func finalize() -> Digest {
        Digest(unsafeUninitializedCount: BLAKE3.digestByteCount) { out in
            rootOutput().writeRootBytes(into: out)
        }
    }

    /// Extended output (XOF): the first `count` bytes of the output stream. The first 32 are
    /// the digest.
    public func finalize(outputByteCount count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            rootOutput().writeRootBytes(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }

    // MARK: - Internals

    @inline(__always)
    mutating func resetChunk(counter: UInt64) {
        chunkCV = key
        chunkCounter = counter
        block = BLAKE3Words()
        blockLength = 0
        blocksCompressed = 0
    }

    /// Feeds `count` bytes that all belong to the current chunk.
    @inline(__always)
    mutating func updateChunk(_ start: UnsafeRawPointer, count: Int) {
        var pointer = start
        var remaining = count
        while remaining > 0 {
            if blockLength == BLAKE3Constants.blockLength {
                // The buffered block is full and more of this chunk follows: not the last block.
                chunkCV = BLAKE3Compress.chainingValue(
                    chunkCV, block, counter: chunkCounter, blockLength: UInt32(BLAKE3Constants.blockLength),
                    flags: baseFlags | startFlag)
                blocksCompressed += 1
                block = BLAKE3Words()
                blockLength = 0
            }
            if blockLength == 0 && remaining > BLAKE3Constants.blockLength {
                // A whole block straight from the input; more bytes follow, so it is not last.
                chunkCV = BLAKE3Compress.chainingValue(
                    chunkCV, BLAKE3Words(loading: pointer), counter: chunkCounter,
                    blockLength: UInt32(BLAKE3Constants.blockLength), flags: baseFlags | startFlag)
                blocksCompressed += 1
                pointer += BLAKE3Constants.blockLength
                remaining -= BLAKE3Constants.blockLength
                continue
            }
            let take = min(BLAKE3Constants.blockLength - blockLength, remaining)
            let offset = blockLength
            withUnsafeMutableBytes(of: &block) { raw in
                (raw.baseAddress! + offset).copyMemory(from: pointer, byteCount: take)
            }
            blockLength += take
            pointer += take
            remaining -= take
        }
    }

    /// Hashes `count` whole chunks from `input` (none of them the last chunk of the message),
    /// starting at the current chunk counter, and merges their chaining values into the tree.
    mutating func hashWholeChunks(_ input: UnsafeRawPointer, count: Int) {
        let batch = PortableBLAKE3Kernel.preferredChunks
        withUnsafeTemporaryAllocation(of: ChainingValue.self, capacity: batch) { cvs in
            var done = 0
            while done < count {
                let n = min(batch, count - done)
                PortableBLAKE3Kernel.hashChunks(
                    input + done * BLAKE3Constants.chunkLength, count: n, key: key,
                    counter: chunkCounter, flags: baseFlags, out: cvs.baseAddress!)
                for i in 0..<n {
                    pushChunkCV(cvs[i], totalChunks: chunkCounter + 1)
                    chunkCounter += 1
                }
                done += n
            }
        }
        resetChunk(counter: chunkCounter)
    }

    /// Adds a completed chunk's chaining value. `totalChunks` is the number of chunks done
    /// including this one: each trailing zero bit of it is a subtree that just became complete
    /// and is merged with its left sibling from the stack.
    @inline(__always)
    mutating func pushChunkCV(_ chunkCV: ChainingValue, totalChunks: UInt64) {
        var cv = chunkCV
        var total = totalChunks
        while total & 1 == 0 {
            cv = BLAKE3Compress.parentChainingValue(left: stack.pop(), right: cv, key: key, flags: baseFlags)
            total >>= 1
        }
        stack.push(cv)
    }

    @inline(__always)
    func chunkOutput() -> BLAKE3Output {
        BLAKE3Output(
            inputCV: chunkCV, block: block, counter: chunkCounter, blockLength: UInt32(blockLength),
            flags: baseFlags | startFlag | BLAKE3Constants.chunkEnd)
    }

    /// The root node: the current chunk merged with every stacked subtree, right to left.
    func rootOutput() -> BLAKE3Output {
        var output = chunkOutput()
        var index = stack.count
        while index > 0 {
            index -= 1
            output = BLAKE3Output.parent(
                left: stack[index], right: output.chainingValue(), key: key, flags: baseFlags)
        }
        return output
    }
}

// MARK: - Constants and words

/// A 32-byte chaining value as eight little-endian words.
typealias ChainingValue = SIMD8<UInt32>

enum BLAKE3Constants {
    static let iv: ChainingValue = [
        0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A,
        0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19,
    ]
    static let blockLength = 64
    static let chunkLength = 1024
    // Domain flags (BLAKE3 spec, table 3).
    static let chunkStart: UInt32 = 1 << 0
    static let chunkEnd: UInt32 = 1 << 1
    static let parent: UInt32 = 1 << 2
    static let root: UInt32 = 1 << 3
    static let keyedHash: UInt32 = 1 << 4
    static let deriveKeyContext: UInt32 = 1 << 5
    static let deriveKeyMaterial: UInt32 = 1 << 6
    /// Deepest possible stack: 2^64 bytes / 1 KiB = 2^54 chunks.
    static let maxDepth = 54
}

/// Sixteen 32-bit words: a message block or the compression state. Plain stored properties
/// (not an array or SIMD vector) so the optimizer keeps them all in registers.
struct BLAKE3Words: Sendable {
    var w0: UInt32 = 0, w1: UInt32 = 0, w2: UInt32 = 0, w3: UInt32 = 0
    var w4: UInt32 = 0, w5: UInt32 = 0, w6: UInt32 = 0, w7: UInt32 = 0
    var w8: UInt32 = 0, w9: UInt32 = 0, w10: UInt32 = 0, w11: UInt32 = 0
    var w12: UInt32 = 0, w13: UInt32 = 0, w14: UInt32 = 0, w15: UInt32 = 0

    init() {}

    /// Loads a 64-byte block (little-endian words) from unaligned memory.
    @inline(__always)
    init(loading pointer: UnsafeRawPointer) {
        #if _endian(little)
        self = pointer.loadUnaligned(as: BLAKE3Words.self)
        #else
        self.init()
        withUnsafeMutableBytes(of: &self) { raw in
            for i in 0..<16 {
                raw.storeBytes(
                    of: UInt32(littleEndian: pointer.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)),
                    toByteOffset: 4 * i, as: UInt32.self)
            }
        }
        #endif
    }

    /// A parent block: two chaining values side by side.
    @inline(__always)
    init(left: ChainingValue, right: ChainingValue) {
        w0 = left[0]; w1 = left[1]; w2 = left[2]; w3 = left[3]
        w4 = left[4]; w5 = left[5]; w6 = left[6]; w7 = left[7]
        w8 = right[0]; w9 = right[1]; w10 = right[2]; w11 = right[3]
        w12 = right[4]; w13 = right[5]; w14 = right[6]; w15 = right[7]
    }

    /// The message word permutation applied between rounds (BLAKE3 spec, §2.2).
    @inline(__always)
    func permuted() -> BLAKE3Words {
        var p = BLAKE3Words()
        p.w0 = w2; p.w1 = w6; p.w2 = w3; p.w3 = w10
        p.w4 = w7; p.w5 = w0; p.w6 = w4; p.w7 = w13
        p.w8 = w1; p.w9 = w11; p.w10 = w12; p.w11 = w5
        p.w12 = w9; p.w13 = w14; p.w14 = w15; p.w15 = w8
        return p
    }
}

// MARK: - Compression

/// The portable, one-block compression function.
enum BLAKE3Compress {
    @inline(__always)
    static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 {
        (x >> n) | (x << (32 - n))
    }

    @inline(__always)
    static func g(
        _ a: inout UInt32, _ b: inout UInt32, _ c: inout UInt32, _ d: inout UInt32,
        _ x: UInt32, _ y: UInt32
    ) {
        a = a &+ b &+ x
        d = rotr(d ^ a, 16)
        c = c &+ d
        b = rotr(b ^ c, 12)
        a = a &+ b &+ y
        d = rotr(d ^ a, 8)
        c = c &+ d
        b = rotr(b ^ c, 7)
    }

    @inline(__always)
    static func round(_ s: inout BLAKE3Words, _ m: BLAKE3Words) {
        // Columns.
        g(&s.w0, &s.w4, &s.w8, &s.w12, m.w0, m.w1)
        g(&s.w1, &s.w5, &s.w9, &s.w13, m.w2, m.w3)
        g(&s.w2, &s.w6, &s.w10, &s.w14, m.w4, m.w5)
        g(&s.w3, &s.w7, &s.w11, &s.w15, m.w6, m.w7)
        // Diagonals.
        g(&s.w0, &s.w5, &s.w10, &s.w15, m.w8, m.w9)
        g(&s.w1, &s.w6, &s.w11, &s.w12, m.w10, m.w11)
        g(&s.w2, &s.w7, &s.w8, &s.w13, m.w12, m.w13)
        g(&s.w3, &s.w4, &s.w9, &s.w14, m.w14, m.w15)
    }

    /// The state after seven rounds (before the final feed-forward).
    @inline(__always)
    static func rounds(
        _ cv: ChainingValue, _ block: BLAKE3Words, counter: UInt64, blockLength: UInt32, flags: UInt32
    ) -> BLAKE3Words {
        var s = BLAKE3Words()
        s.w0 = cv[0]; s.w1 = cv[1]; s.w2 = cv[2]; s.w3 = cv[3]
        s.w4 = cv[4]; s.w5 = cv[5]; s.w6 = cv[6]; s.w7 = cv[7]
        s.w8 = BLAKE3Constants.iv[0]; s.w9 = BLAKE3Constants.iv[1]
        s.w10 = BLAKE3Constants.iv[2]; s.w11 = BLAKE3Constants.iv[3]
        s.w12 = UInt32(truncatingIfNeeded: counter)
        s.w13 = UInt32(truncatingIfNeeded: counter >> 32)
        s.w14 = blockLength
        s.w15 = flags
        var m = block
        round(&s, m); m = m.permuted()
        round(&s, m); m = m.permuted()
        round(&s, m); m = m.permuted()
        round(&s, m); m = m.permuted()
        round(&s, m); m = m.permuted()
        round(&s, m); m = m.permuted()
        round(&s, m)
        return s
    }

    /// Compression truncated to the new chaining value (first eight words).
    @inline(__always)
    static func chainingValue(
        _ cv: ChainingValue, _ block: BLAKE3Words, counter: UInt64, blockLength: UInt32, flags: UInt32
    ) -> ChainingValue {
        let s = rounds(cv, block, counter: counter, blockLength: blockLength, flags: flags)
        return ChainingValue(
            s.w0 ^ s.w8, s.w1 ^ s.w9, s.w2 ^ s.w10, s.w3 ^ s.w11,
            s.w4 ^ s.w12, s.w5 ^ s.w13, s.w6 ^ s.w14, s.w7 ^ s.w15)
    }

    /// Full 64-byte compression output, for root (XOF) blocks.
    @inline(__always)
    static func extended(
        _ cv: ChainingValue, _ block: BLAKE3Words, counter: UInt64, blockLength: UInt32, flags: UInt32
    ) -> BLAKE3Words {
        var s = rounds(cv, block, counter: counter, blockLength: blockLength, flags: flags)
        s.w0 ^= s.w8; s.w1 ^= s.w9; s.w2 ^= s.w10; s.w3 ^= s.w11
        s.w4 ^= s.w12; s.w5 ^= s.w13; s.w6 ^= s.w14; s.w7 ^= s.w15
        s.w8 ^= cv[0]; s.w9 ^= cv[1]; s.w10 ^= cv[2]; s.w11 ^= cv[3]
        s.w12 ^= cv[4]; s.w13 ^= cv[5]; s.w14 ^= cv[6]; s.w15 ^= cv[7]
        return s
    }

    @inline(__always)
    static func parentChainingValue(
        left: ChainingValue, right: ChainingValue, key: ChainingValue, flags: UInt32
    ) -> ChainingValue {
        chainingValue(
            key, BLAKE3Words(left: left, right: right), counter: 0,
            blockLength: UInt32(BLAKE3Constants.blockLength), flags: flags | BLAKE3Constants.parent)
    }
}

/// A node whose compression has not been run yet: either turned into a chaining value
/// (non-root) or, with ROOT set, into output bytes.
struct BLAKE3Output {
    var inputCV: ChainingValue
    var block: BLAKE3Words
    var counter: UInt64
    var blockLength: UInt32
    var flags: UInt32

    @inline(__always)
    static func parent(left: ChainingValue, right: ChainingValue, key: ChainingValue, flags: UInt32) -> BLAKE3Output {
        BLAKE3Output(
            inputCV: key, block: BLAKE3Words(left: left, right: right), counter: 0,
            blockLength: UInt32(BLAKE3Constants.blockLength), flags: flags | BLAKE3Constants.parent)
    }

    @inline(__always)
    func chainingValue() -> ChainingValue {
        BLAKE3Compress.chainingValue(inputCV, block, counter: counter, blockLength: blockLength, flags: flags)
    }

    /// Writes the root output stream: 64-byte blocks numbered by an output counter.
    func writeRootBytes(into out: UnsafeMutableRawBufferPointer) {
        var offset = 0
        var outputCounter: UInt64 = 0
        while offset < out.count {
            var words = BLAKE3Compress.extended(
                inputCV, block, counter: outputCounter, blockLength: blockLength,
                flags: flags | BLAKE3Constants.root)
            #if _endian(big)
            withUnsafeMutableBytes(of: &words) { raw in
                for i in 0..<16 {
                    let w = raw.load(fromByteOffset: 4 * i, as: UInt32.self)
                    raw.storeBytes(of: w.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                }
            }
            #endif
            let take = min(BLAKE3Constants.blockLength, out.count - offset)
            withUnsafeBytes(of: &words) { raw in
                (out.baseAddress! + offset).copyMemory(from: raw.baseAddress!, byteCount: take)
            }
            offset += take
            outputCounter += 1
        }
    }
}

/// The chaining-value stack, stored inline (54 entries: enough for 2^64 bytes).
struct BLAKE3CVStack: Sendable {
    typealias Storage = (ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue, ChainingValue)
    static let zero: Storage = (.zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero, .zero)
    var storage: Storage = BLAKE3CVStack.zero
    var count = 0

    init() {}

    @inline(__always)
    mutating func push(_ cv: ChainingValue) {
        precondition(count < BLAKE3Constants.maxDepth)
        let index = count
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.storeBytes(of: cv, toByteOffset: index * MemoryLayout<ChainingValue>.stride, as: ChainingValue.self)
        }
        count += 1
    }

    @inline(__always)
    mutating func pop() -> ChainingValue {
        precondition(count > 0)
        count -= 1
        return self[count]
    }

    @inline(__always)
    subscript(index: Int) -> ChainingValue {
        withUnsafeBytes(of: storage) { raw in
            raw.loadUnaligned(fromByteOffset: index * MemoryLayout<ChainingValue>.stride, as: ChainingValue.self)
        }
    }
}
