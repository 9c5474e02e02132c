import CairnSystem

/// The gear table of the `fastcdc` crate (nlfiedler/fastcdc-rs, `src/v2020/mod.rs`, `GEAR`),
/// regenerated here rather than stored: entry `i` is the first 8 bytes, read big-endian, of the
/// MD5 digest of 64 bytes that all equal `i` (the crate's `examples/table64.rs`, which follows the
/// C reference in Borelset/destor `fascdc_chunking.c`). pyfastcdc 0.3.1's `GEAR` is the same table.
enum GearTable {
    static let values: [UInt64] = (0..<256).map { i in
        let digest = MD5.digest(of: [UInt8](repeating: UInt8(i), count: 64))
        return digest.prefix(8).reduce(0) { ($0 << 8) | UInt64($1) }
    }

    /// 768 entries in memory that is never freed, for the hot loops: `[0, 256)` the table,
    /// `[256, 512)` the table shifted left by one bit (the crate's `GEAR_LS`), `[512, 768)` the
    /// table again (``FastCDCChunker`` reads it where the compiler must not know it is the same).
    /// One base register serves every lookup.
    nonisolated(unsafe) static let combined: UnsafePointer<UInt64> = {
        let table = UnsafeMutablePointer<UInt64>.allocate(capacity: 768)
        for i in 0..<256 {
            table[i] = values[i]
            table[256 + i] = values[i] &<< 1
            table[512 + i] = values[i]
        }
        return UnsafePointer(table)
    }()
}

/// A small MD5 (RFC 1321), used only to generate ``GearTable``. Not for security.
enum MD5 {
    /// Per-round left-rotation amounts.
    private static let shifts: [UInt32] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ]

    /// The additive constants: floor(|sin(i + 1)| · 2^32), as RFC 1321 §3.4 defines them.
    private static let constants: [UInt32] = (0..<64).map { i in
        UInt32(truncatingIfNeeded: UInt64(abs(sin(Double(i + 1))) * 4_294_967_296.0))
    }

    static func digest(of message: [UInt8]) -> [UInt8] {
        var bytes = message
        bytes.append(0x80)
        while bytes.count % 64 != 56 { bytes.append(0) }
        let bitLength = UInt64(message.count) &* 8
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }

        var a0: UInt32 = 0x6745_2301, b0: UInt32 = 0xefcd_ab89, c0: UInt32 = 0x98ba_dcfe, d0: UInt32 = 0x1032_5476
        var words = [UInt32](repeating: 0, count: 16)
        for block in stride(from: 0, to: bytes.count, by: 64) {
            for w in 0..<16 {
                let at = block + 4 * w
                words[w] = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
            }
            var a = a0, b = b0, c = c0, d = d0
            for i in 0..<64 {
                var f: UInt32
                let g: Int
                switch i {
                case 0..<16: f = (b & c) | (~b & d); g = i
                case 16..<32: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
                case 32..<48: f = b ^ c ^ d; g = (3 * i + 5) % 16
                default: f = c ^ (b | ~d); g = (7 * i) % 16
                }
                f = f &+ a &+ constants[i] &+ words[g]
                a = d
                d = c
                c = b
                b = b &+ ((f << shifts[i]) | (f >> (32 - shifts[i])))
            }
            a0 = a0 &+ a
            b0 = b0 &+ b
            c0 = c0 &+ c
            d0 = d0 &+ d
        }
        var out: [UInt8] = []
        for word in [a0, b0, c0, d0] {
            for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: word >> (8 * UInt32(i)))) }
        }
        return out
    }
}
