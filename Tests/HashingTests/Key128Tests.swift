import Hashing
import Testing

/// The bench's dedup key (spec/cli.md, "Dedup key"): both kernels agree, and the changes real
/// data makes (a byte, stripe order, trailing zeros) change it.
@Suite struct Key128Tests {
    static func key(_ bytes: [UInt8], simd: Bool = true) -> [UInt64] {
        let pair = bytes.withUnsafeBytes { Key128.hash($0, simd: simd) }
        return [pair.0, pair.1]
    }

    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    @Test func portableAndSIMDKernelsAgree() {
        let data = Self.bytes(70_000, seed: 1)
        for length in Array(0...130) + [1023, 1024, 1025, 2048, 4095, 65_536, 69_999] {
            for start in [0, 1, 7] where start + length <= data.count {
                let slice = Array(data[start..<(start + length)])
                #expect(Self.key(slice, simd: true) == Self.key(slice, simd: false), "\(length) at \(start)")
            }
        }
    }

    @Test func changesChangeTheKey() {
        let data = Self.bytes(8192, seed: 2)
        var keys = Set<[UInt64]>()
        keys.insert(Self.key(data))
        for position in [0, 63, 64, 1000, 1023, 1024, 8191] {
            var changed = data
            changed[position] ^= 1
            keys.insert(Self.key(changed))
        }
        // Two stripes of one block swapped, and two blocks swapped.
        keys.insert(Self.key(Array(data[64..<128] + data[0..<64] + data[128...])))
        keys.insert(Self.key(Array(data[1024..<2048] + data[0..<1024] + data[2048...])))
        // Trailing zeros, and a prefix.
        keys.insert(Self.key(data + [0]))
        keys.insert(Self.key(data + [UInt8](repeating: 0, count: 64)))
        keys.insert(Self.key(Array(data.prefix(8191))))
        #expect(keys.count == 13)
        #expect(Self.key([]) != Self.key([0]))
    }
}
