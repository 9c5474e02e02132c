import CairnTestSupport
@testable import Chunking
import Testing

@Suite struct EdgeCaseTests {
    static let allSpecs = [
        "size-1", "size-1000", "size-262144", "size-2096896", "rabin", "rabin-48", "rabin-16-32-64",
        "rabin-16384-65536-131072", "buzhash", "fastcdc", "fastcdc-1024", "fastcdc-64-256-1024-3",
        "fastcdc-262144-1048576-4194304-0",
    ]

    @Test(arguments: allSpecs)
    func emptyInputHasNoChunks(_ spec: String) throws {
        let chunker = try ChunkerSpec(parsing: spec).makeChunker()
        #expect(boundaries(chunker, of: []).isEmpty)
        var source = BufferSource([UInt8]())
        #expect(try streamedBoundaries(chunker, from: &source).isEmpty)
    }

    @Test(arguments: allSpecs)
    func inputShorterThanTheMinimumIsOneChunk(_ spec: String) throws {
        let parsed = try ChunkerSpec(parsing: spec)
        let minimum: Int
        switch parsed {
        case .fixed(let size): minimum = size
        case .rabin(let m, _, _): minimum = m
        case .buzhash: minimum = BuzhashChunker.minimum
        case .fastCDC(let m, _, _, _): minimum = m
        }
        for length in Set([1, max(1, minimum - 1), minimum]) {
            let input = SplitMix64.bytes(seed: UInt64(length), count: length)
            #expect(boundaries(parsed.makeChunker(), of: input) == [ChunkBoundary(offset: 0, length: length)], "\(spec), \(length) bytes")
        }
    }

    @Test func fixedSizeAroundMultiples() {
        for size in [1, 7, 1000, 262_144] {
            let chunker = FixedSizeChunker(size: size)
            for count in [size, size + 1, 3 * size, 3 * size - 1] {
                let got = boundaries(chunker, of: [UInt8](repeating: 0xAB, count: count))
                var expected: [ChunkBoundary] = []
                var offset = 0
                while offset < count {
                    expected.append(ChunkBoundary(offset: offset, length: min(size, count - offset)))
                    offset += size
                }
                #expect(got == expected, "size \(size), input \(count)")
            }
        }
    }

    @Test func everyChunkerCoversTheInputContiguously() throws {
        let input = InputCache.input("sm2_5242880")
        for spec in Self.allSpecs {
            let parsed = try ChunkerSpec(parsing: spec)
            let got = boundaries(parsed.makeChunker(), of: input)
            var offset = 0
            var ok = true
            for b in got {
                if b.offset != offset || b.length < 1 || b.length > parsed.maximumChunkLength { ok = false }
                offset += b.length
            }
            #expect(ok && offset == input.count, "\(spec)")
        }
    }

    @Test func longRunsOfZeros() throws {
        // 12 MiB of zeros: the input is periodic, so every chunk but the last has one length, and
        // that length is what the definition-level reference rules give for the first chunk.
        let zeros = [UInt8](repeating: 0, count: 12 << 20)
        let prefix = zeros[0..<(4 << 20)]
        let firstByReference: [String: Int] = [
            "rabin": Reference.rabinCut(prefix, minimum: 87381, average: 262_144, maximum: 393_216),
            "rabin-16384-65536-131072": Reference.rabinCut(prefix, minimum: 16384, average: 65536, maximum: 131_072),
            "buzhash": Reference.buzhashCut(prefix),
            "fastcdc": Reference.fastCDCCut(prefix, minimum: 65536, average: 262_144, maximum: 1_048_576, level: 1),
            "fastcdc-16384-65536-262144-2": Reference.fastCDCCut(prefix, minimum: 16384, average: 65536, maximum: 262_144, level: 2),
        ]
        for (spec, first) in firstByReference {
            let chunker = try ChunkerSpec(parsing: spec).makeChunker()
            let got = boundaries(chunker, of: zeros)
            #expect(Set(got.dropLast().map(\.length)) == [first], "\(spec)")
            #expect(got.reduce(0) { $0 + $1.length } == zeros.count)
            // Streaming with random read sizes gives the same list.
            var source = RandomlySplitSource(BufferSource(zeros), seed: 8, largest: 1 << 21)
            #expect(try streamedBoundaries(chunker, from: &source) == got, "\(spec) streamed")
        }
    }
}

@Suite struct SpecParsingTests {
    @Test func acceptedForms() throws {
        let cases: [(String, ChunkerSpec)] = [
            ("", .fixed(size: 262_144)),
            ("default", .fixed(size: 262_144)),
            ("size-262144", .fixed(size: 262_144)),
            ("size-1", .fixed(size: 1)),
            ("size-2096896", .fixed(size: 2_096_896)),
            // boxo: rabin = rabin-262144; rabin-AVG derives min = AVG/3, max = AVG + AVG/2.
            ("rabin", .rabin(minimum: 87381, average: 262_144, maximum: 393_216)),
            ("rabin-262144", .rabin(minimum: 87381, average: 262_144, maximum: 393_216)),
            ("rabin-16384-65536-131072", .rabin(minimum: 16384, average: 65536, maximum: 131_072)),
            ("rabin-min:16384-avg:65536-max:131072", .rabin(minimum: 16384, average: 65536, maximum: 131_072)),
            ("buzhash", .buzhash),
            // vectors README: fastcdc alone = 65536-262144-1048576, level 1.
            ("fastcdc", .fastCDC(minimum: 65536, average: 262_144, maximum: 1_048_576, normalization: 1)),
            ("fastcdc-65536", .fastCDC(minimum: 16384, average: 65536, maximum: 262_144, normalization: 1)),
            ("fastcdc-16384-65536-262144-2", .fastCDC(minimum: 16384, average: 65536, maximum: 262_144, normalization: 2)),
            ("fastcdc-262144-1048576-4194304-0", .fastCDC(minimum: 262_144, average: 1_048_576, maximum: 4_194_304, normalization: 0)),
        ]
        for (text, expected) in cases {
            #expect(try ChunkerSpec(parsing: text) == expected, "\(text)")
        }
    }

    @Test func canonicalTextRoundTrips() throws {
        for text in ["size-1000", "rabin", "buzhash", "fastcdc", "fastcdc-4096", "rabin-16384-65536-131072"] {
            let spec = try ChunkerSpec(parsing: text)
            #expect(try ChunkerSpec(parsing: spec.description) == spec)
        }
    }

    @Test func rejectedForms() {
        // Each bad spec and a word its one-line message must contain.
        let cases: [(String, String)] = [
            ("size-0", "at least 1"),
            ("size-2096897", "limit"),
            ("size-", "missing"),
            ("size-abc", "not a number"),
            ("size--5", "expected size-N"),
            ("size-99999999999999999999999", "too large"),
            ("size-10-20", "expected size-N"),
            ("rabin-9-8-7", "below 16"),
            ("rabin-100-50-200", "minimum < average < maximum"),
            ("rabin-16-32-3000000", "limit"),
            ("rabin-1-2", "expected rabin"),
            ("rabin-47", "below 16"),
            ("rabin-2000000", "limit"),
            ("rabin-max:16-avg:32-min:64", "label"),
            ("buzhash-3", "no parameters"),
            ("fastcdc-1-2", "expected fastcdc"),
            ("fastcdc-10", "average"),
            ("fastcdc-16-256-1024", "minimum"),
            ("fastcdc-64-256-99999999", "maximum"),
            ("fastcdc-4096-1024-65536", "minimum ≤ average ≤ maximum"),
            ("fastcdc-64-256-1024-4", "normalization"),
            ("fastcdc-64-256-1024-x", "not a number"),
            ("gear", "unknown chunker"),
            ("Size-1000", "unknown chunker"),
        ]
        for (text, word) in cases {
            do {
                let spec = try ChunkerSpec(parsing: text)
                Issue.record("\"\(text)\" was accepted as \(spec)")
            } catch {
                let message = error.description
                #expect(message.contains(word), "\(text): \(message)")
                #expect(message.contains("\"\(text)\""), "\(text): message names the spec")
                #expect(!message.contains("\n"))
            }
        }
    }
}
