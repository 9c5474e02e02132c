/// MurmurHash3 x64 128-bit (Austin Appleby's public-domain reference, `MurmurHash3_x64_128`),
/// reduced to what UnixFS HAMTs use: multihash `murmur3-x64-64` (0x22) is the **first** 64-bit
/// half (`h1`) of the 128-bit result with seed 0, serialized big-endian
/// (kubo-import-semantics.md §5.3; `spaolacci/murmur3` `New64().Sum(nil)`).
enum Murmur3 {
    @usableFromInline static let c1: UInt64 = 0x87C3_7B91_1142_53D5
    @usableFromInline static let c2: UInt64 = 0x4CF5_AD43_2745_937F

    /// `h1` of MurmurHash3_x64_128 over a byte array (seed 0): the HAMT key of a link name.
    @inlinable
    static func hamtKey(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { x64_128($0, seed: 0).h1 }
    }

    /// Both halves of MurmurHash3_x64_128.
    @inlinable
    static func x64_128(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> (h1: UInt64, h2: UInt64) {
        let length = bytes.count
        var h1 = seed
        var h2 = seed
        let blocks = length / 16
        for i in 0..<blocks {
            var k1 = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 16, as: UInt64.self))
            var k2 = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 16 + 8, as: UInt64.self))
            k1 &*= c1; k1 = rotl(k1, 31); k1 &*= c2; h1 ^= k1
            h1 = rotl(h1, 27); h1 &+= h2; h1 = h1 &* 5 &+ 0x52DC_E729
            k2 &*= c2; k2 = rotl(k2, 33); k2 &*= c1; h2 ^= k2
            h2 = rotl(h2, 31); h2 &+= h1; h2 = h2 &* 5 &+ 0x3849_5AB5
        }
        let tail = blocks * 16
        let rest = length & 15
        var k1: UInt64 = 0
        var k2: UInt64 = 0
        if rest > 8 {
            for j in stride(from: rest - 1, through: 8, by: -1) {
                k2 ^= UInt64(bytes[tail + j]) << (8 * UInt64(j - 8))
            }
            k2 &*= c2; k2 = rotl(k2, 33); k2 &*= c1; h2 ^= k2
        }
        if rest > 0 {
            for j in stride(from: min(rest, 8) - 1, through: 0, by: -1) {
                k1 ^= UInt64(bytes[tail + j]) << (8 * UInt64(j))
            }
            k1 &*= c1; k1 = rotl(k1, 31); k1 &*= c2; h1 ^= k1
        }
        h1 ^= UInt64(length)
        h2 ^= UInt64(length)
        h1 &+= h2
        h2 &+= h1
        h1 = fmix64(h1)
        h2 = fmix64(h2)
        h1 &+= h2
        h2 &+= h1
        return (h1, h2)
    }

    @inlinable
    static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    @inlinable
    static func fmix64(_ value: UInt64) -> UInt64 {
        var k = value
        k ^= k >> 33
        k &*= 0xFF51_AFD7_ED55_8CCD
        k ^= k >> 33
        k &*= 0xC4CE_B9FE_1A85_EC53
        k ^= k >> 33
        return k
    }
}
