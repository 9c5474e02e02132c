@testable import Chunking
import CairnTestSupport
import Foundation
import Testing

/// Straightforward, definition-level versions of the three content-defined rules (one hash step
/// per byte, no lanes, no tables beyond the byte tables), checked against the optimised finders
/// on random and low-entropy data for many parameter sets. They pin the lane splitting, the block
/// tails and the mask switch at the centre of FastCDC.
///
/// Every constant they use comes from the published sources, never from the code under test:
/// Kubo's polynomial and the buzhash limits are typed in from boxo, the buzhash and gear tables
/// are read from `Tests/Fixtures/chunking/` (see the header of each file), the FastCDC masks are
/// the crate's `MASKS`.
enum Reference {
    /// Kubo's `IpfsRabinPoly` (boxo `chunker/rabin.go`): 17437180132763653, degree 53.
    static let rabinPolynomial: UInt64 = 17_437_180_132_763_653

    /// boxo `chunker/buzhash.go`: `buzMin = 128 << 10`, `buzMax = 512 << 10`, `buzMask = 1<<17 - 1`,
    /// a 32-byte window.
    static let buzhashMinimum = 128 << 10, buzhashMaximum = 512 << 10
    static let buzhashMask: UInt32 = (1 << 17) - 1

    /// boxo's `bytehash`, from `Tests/Fixtures/chunking/buzhash-bytehash.txt`.
    static let buzhashTable: [UInt32] = fixtureTable("buzhash-bytehash.txt").map { UInt32($0) }

    /// The FastCDC gear table, from `Tests/Fixtures/chunking/fastcdc-gear.txt`.
    static let gear: [UInt64] = fixtureTable("fastcdc-gear.txt")

    /// nlfiedler/fastcdc-rs `src/v2020/mod.rs` `MASKS` (index = number of bits).
    static let fastCDCMasks: [UInt64] = [
        0, 0, 0, 0, 0, 0x0000_0000_0180_4110, 0x0000_0000_0180_3110, 0x0000_0000_1803_5100,
        0x0000_0018_0003_5300, 0x0000_0190_0035_3000, 0x0000_5900_0353_0000, 0x0000_d900_0353_0000,
        0x0000_d901_0353_0000, 0x0000_d903_0353_0000, 0x0000_d903_1353_0000, 0x0000_d90f_0353_0000,
        0x0000_d903_0353_7000, 0x0000_d907_0353_7000, 0x0000_d907_0753_7000, 0x0000_d917_0753_7000,
        0x0000_d917_4753_7000, 0x0000_d917_6753_7000, 0x0000_d937_6753_7000, 0x0000_d937_7753_7000,
        0x0000_d937_7757_7000, 0x0000_db37_7757_7000,
    ]

    /// The crate's masks for `average` and `level`: `MASKS[round(log2 avg) ± level]`, the
    /// rounding done in floating point as the crate does (`(avg as f64).log2().round()`).
    static func fastCDCMasks(average: Int, level: Int) -> (small: UInt64, large: UInt64) {
        let bits = Int(log2(Double(average)).rounded())
        return (fastCDCMasks[bits + level], fastCDCMasks[bits - level])
    }

    /// One hex number per line; `#` lines are comments.
    static func fixtureTable(_ name: String) -> [UInt64] {
        let url = Vectors.fixtures.appendingPathComponent("chunking/" + name)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { fatalError("missing fixture \(url.path)") }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            guard let value = UInt64(line, radix: 16) else { fatalError("bad line in \(name): \(line)") }
            return value
        }
    }

    /// Rabin fingerprint of 16 bytes by polynomial long division, straight from the definition.
    static func rabinFingerprint(_ window: ArraySlice<UInt8>) -> UInt64 {
        let p = rabinPolynomial
        var value: UInt64 = 0
        for byte in window {
            value = (value << 8) | UInt64(byte)
            // Reduce: while the degree is at least 53, cancel the top bit.
            while value >> 53 != 0 {
                let degree = 63 - value.leadingZeroBitCount
                value ^= p << UInt64(degree - 53)
            }
        }
        return value
    }

    static func rabinCut(_ data: ArraySlice<UInt8>, minimum: Int, average: Int, maximum: Int) -> Int {
        let n = data.count
        if n <= minimum { return n }
        let limit = min(n, maximum)
        let bits = 63 - UInt64(average).leadingZeroBitCount
        let mask = (UInt64(1) << UInt64(bits)) - 1
        let base = data.startIndex
        var length = minimum
        while length < limit {
            if rabinFingerprint(data[(base + length - 16)..<(base + length)]) & mask == 0 { return length }
            length += 1
        }
        return limit
    }

    static func buzhashCut(_ data: ArraySlice<UInt8>) -> Int {
        let n = data.count
        if n < buzhashMinimum { return n }
        let limit = min(n, buzhashMaximum)
        let base = data.startIndex
        var length = buzhashMinimum
        while length < limit {
            var state: UInt32 = 0
            for byte in data[(base + length - 32)..<(base + length)] {
                state = (state << 1 | state >> 31) ^ buzhashTable[Int(byte)]
            }
            if state & buzhashMask == 0 { return length }
            length += 1
        }
        return limit
    }

    /// The crate's loop shape: two bytes per step, shifted table and masks on the even byte.
    static func fastCDCCut(_ data: ArraySlice<UInt8>, minimum: Int, average: Int, maximum: Int, level: Int) -> Int {
        var remaining = data.count
        if remaining <= minimum { return remaining }
        var center = average
        if remaining > maximum { remaining = maximum } else if remaining < center { center = remaining }
        let (maskS, maskL) = fastCDCMasks(average: average, level: level)
        let base = data.startIndex
        var hash: UInt64 = 0
        var index = minimum / 2
        while index < center / 2 {
            let a = index * 2
            hash = (hash << 2) &+ (gear[Int(data[base + a])] << 1)
            if hash & (maskS << 1) == 0 { return a }
            hash = hash &+ gear[Int(data[base + a + 1])]
            if hash & maskS == 0 { return a + 1 }
            index += 1
        }
        while index < remaining / 2 {
            let a = index * 2
            hash = (hash << 2) &+ (gear[Int(data[base + a])] << 1)
            if hash & (maskL << 1) == 0 { return a }
            hash = hash &+ gear[Int(data[base + a + 1])]
            if hash & maskL == 0 { return a + 1 }
            index += 1
        }
        return remaining
    }

    static func lengths(_ data: [UInt8], _ cut: (ArraySlice<UInt8>) -> Int) -> [Int] {
        var result: [Int] = []
        var offset = 0
        while offset < data.count {
            let length = cut(data[offset...])
            result.append(length)
            offset += length
        }
        return result
    }
}

/// Low-entropy test data: random bytes drawn from a small alphabet, so that small masks hit often
/// and runs repeat.
func lowEntropy(seed: UInt64, count: Int, alphabet: UInt8) -> [UInt8] {
    SplitMix64.bytes(seed: seed, count: count).map { $0 % alphabet }
}

@Suite struct ReferenceCrossChecks {
    static let rabinParameters: [(Int, Int, Int)] = [
        (16, 64, 128), (17, 100, 300), (512, 1024, 2048), (1000, 4096, 9000), (64, 65536, 200_000),
        (2048, 8192, 40000),
    ]

    @Test(arguments: 0..<rabinParameters.count)
    func rabinMatchesDefinition(_ index: Int) {
        let (minimum, average, maximum) = Self.rabinParameters[index]
        let chunker = RabinChunker(minimum: minimum, average: average, maximum: maximum)
        for (seed, data) in [(1, SplitMix64.bytes(seed: 11, count: 300_000)), (2, lowEntropy(seed: 12, count: 200_000, alphabet: 3))] {
            let expected = Reference.lengths(data) { Reference.rabinCut($0, minimum: minimum, average: average, maximum: maximum) }
            let got = data.withUnsafeBytes { chunker.chunkLengths(of: $0) }
            #expect(got == expected, "rabin \(minimum)-\(average)-\(maximum), data \(seed)")
        }
    }

    @Test func buzhashMatchesDefinition() {
        for data in [SplitMix64.bytes(seed: 21, count: 3_000_000), lowEntropy(seed: 22, count: 2_000_000, alphabet: 2)] {
            let expected = Reference.lengths(data) { Reference.buzhashCut($0) }
            let got = data.withUnsafeBytes { BuzhashChunker().chunkLengths(of: $0) }
            #expect(got == expected)
        }
    }

    static let fastCDCParameters: [(Int, Int, Int, Int)] = [
        (64, 256, 1024, 0), (64, 256, 1024, 3), (65, 300, 1500, 1), (255, 1000, 5000, 2), (1023, 4096, 16385, 1),
        (4096, 16384, 65536, 2), (16384, 65536, 262_144, 2), (65536, 262_144, 1_048_576, 1),
        (100_000, 131_072, 200_001, 3),
    ]

    @Test(arguments: 0..<fastCDCParameters.count)
    func fastCDCMatchesCrateLoop(_ index: Int) {
        let (minimum, average, maximum, level) = Self.fastCDCParameters[index]
        let chunker = FastCDCChunker(minimum: minimum, average: average, maximum: maximum, normalization: level)
        for (seed, data) in [(1, SplitMix64.bytes(seed: 31, count: 2_000_001)), (2, lowEntropy(seed: 32, count: 500_000, alphabet: 4))] {
            let expected = Reference.lengths(data) { Reference.fastCDCCut($0, minimum: minimum, average: average, maximum: maximum, level: level) }
            let got = data.withUnsafeBytes { chunker.chunkLengths(of: $0) }
            #expect(got == expected, "fastcdc \(minimum)-\(average)-\(maximum)-\(level), data \(seed)")
        }
    }
}

@Suite struct TableChecks {
    @Test func rabinTablesMatchQuotedValues() {
        // kubo-import-semantics.md §3.2 quotes these check values of whyrusleeping/chunker's tables.
        let tables = RabinTables.kubo
        #expect(tables.outBeforeAppend[1] == 0x17_fa63_217c_2ad7)
        #expect(tables.outBeforeAppend[255] == 0x17_1e3a_ded8_6a75)
        #expect(tables.mod[1] == 0x3d_f305_dfb2_a805)
        #expect(tables.mod[255] == 0x1fe1_d6d6_5a0b_e2bc)
        #expect(RabinChunker.polynomial == Reference.rabinPolynomial)
    }

    @Test func buzhashTableEnds() {
        // kubo-import-semantics.md §3.3: H[0] and H[255] of boxo's bytehash.
        #expect(BuzhashChunker.table.count == 256)
        #expect(BuzhashChunker.table[0] == 0x6236_e7d5)
        #expect(BuzhashChunker.table[255] == 0x5c41_857d)
        #expect(Set(BuzhashChunker.table).count == 256)
    }

    /// Every entry of the code's tables and constants against the published ones.
    @Test func buzhashConstantsMatchBoxo() {
        #expect(Reference.buzhashTable.count == 256)
        #expect(BuzhashChunker.table == Reference.buzhashTable)
        #expect(BuzhashChunker.minimum == Reference.buzhashMinimum)
        #expect(BuzhashChunker.maximum == Reference.buzhashMaximum)
        #expect(BuzhashChunker.mask == Reference.buzhashMask)
    }

    @Test func gearTableAndMasksMatchTheCrate() {
        #expect(Reference.gear.count == 256)
        #expect(GearTable.values == Reference.gear)
        for (average, level) in [(256, 0), (300, 1), (4096, 2), (65536, 2), (262_144, 1), (1_048_576, 0), (131_072, 3)] {
            let chunker = FastCDCChunker(minimum: average / 4, average: average, maximum: 4 * average, normalization: level)
            let (small, large) = Reference.fastCDCMasks(average: average, level: level)
            #expect(chunker.maskS == small && chunker.maskL == large, "average \(average), level \(level)")
        }
    }

    @Test func md5KnownAnswers() {
        // RFC 1321 appendix A.5 test suite.
        #expect(Hex.encode(MD5.digest(of: [])) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(Hex.encode(MD5.digest(of: Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(
            Hex.encode(MD5.digest(of: Array("12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8)))
                == "57edf4a22be3c955ac49da2e2107b67a")
    }

    @Test func gearTableMatchesCrateEntries() {
        // nlfiedler/fastcdc-rs src/v2020/mod.rs GEAR: first, second and last entries.
        #expect(GearTable.values.count == 256)
        #expect(GearTable.values[0] == 0x3b5d_3c7d_207e_37dc)
        #expect(GearTable.values[1] == 0x784d_68ba_9112_3086)
        #expect(GearTable.values[255] == 0xaabd_2b2a_4515_04e1)
    }

    @Test func logarithm2RoundsLikeTheCrate() {
        // Pairs from the crate's own test_logarithm2 (round-to-nearest of log2).
        let pairs: [(Int, Int)] = [
            (1, 0), (2, 1), (3, 2), (5, 2), (6, 3), (11, 3), (12, 4), (19, 4), (64, 6), (16383, 14), (16385, 14),
            (32767, 15), (65535, 16), (65537, 16), (1_048_575, 20), (4_194_303, 22), (4_194_305, 22),
        ]
        for (value, expected) in pairs {
            #expect(FastCDCChunker.logarithm2(value) == expected, "log2(\(value))")
        }
    }
}
