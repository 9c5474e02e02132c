/// SplitMix64, exactly as `shared/vectors/README.md` defines it: every input of the shared
/// vectors (`sm<SEED>_<SIZE>`) is this stream of 64-bit words, each emitted little-endian and
/// the whole stream truncated to the wanted size.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) {
        self.state = seed
    }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Fills `buffer` with the next bytes of the stream. The stream position is kept in whole
    /// words, so call this with lengths that are multiples of 8 except for the last call.
    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        let count = buffer.count
        while offset + 8 <= count {
            buffer.storeBytes(of: next().littleEndian, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        if offset < count {
            var word = next().littleEndian
            withUnsafeBytes(of: &word) { bytes in
                for i in 0..<(count - offset) { buffer[offset + i] = bytes[i] }
            }
        }
    }

    /// The first `size` bytes of the stream for `seed`: the input `sm<seed>_<size>`.
    public static func bytes(seed: UInt64, count size: Int) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            generator.fill(UnsafeMutableRawBufferPointer(buffer))
            initialized = size
        }
    }
}
