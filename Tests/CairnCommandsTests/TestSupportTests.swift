import CairnTestSupport
import Testing

/// The test-support generator must be the exact SplitMix64 of `shared/vectors/README.md`.
@Suite struct SplitMix64Tests {
    @Test func sanityValuesFromTheVectorsReadme() {
        var zero = SplitMix64(seed: 0)
        #expect(zero.next() == 0xE220_A839_7B1D_CDAF)
        #expect(Array(SplitMix64.bytes(seed: 0, count: 8)) == [0xaf, 0xcd, 0x1d, 0x7b, 0x39, 0xa8, 0x20, 0xe2])
        var vigna = SplitMix64(seed: 1_234_567)
        #expect(vigna.next() == 6_457_827_717_110_365_317)
        #expect(vigna.next() == 3_203_168_211_198_807_973)
        #expect(vigna.next() == 9_817_491_932_198_370_423)
    }

    @Test func truncatesToAnySize() {
        let long = SplitMix64.bytes(seed: 3, count: 64)
        for size in 0...64 {
            #expect(SplitMix64.bytes(seed: 3, count: size) == Array(long.prefix(size)))
        }
    }

    @Test func readsTheSharedInputsTable() throws {
        let rows = try Vectors.tsv("inputs.tsv")
        #expect(rows.count >= 26)
        #expect(rows.contains { $0["input"] == "sm1_262145" })
    }
}
