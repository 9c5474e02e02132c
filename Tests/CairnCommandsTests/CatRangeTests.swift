import CairnTestSupport
import Foundation
import Testing

/// `cairn cat --offset/--length` (Kubo's flags): the bytes written are the slice of the input.
@Suite struct CatRangeTests {
    @Test func rangesAreSlicesOfTheInput() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let input = SplitMix64.bytes(seed: 15, count: 200_000)
        let file = try box.write("in", input)
        let add = try box.cairn(["add", "-Q", "--chunker=size-1000", "--max-file-links=4", file])
        try #require(add.status == 0, "\(add.stderr)")
        let root = add.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let cases: [(offset: Int?, length: Int?)] = [(nil, nil), (0, 10), (999, 2), (123_456, 50_000), (199_990, 100), (200_000, nil), (5, 0)]
        for (offset, length) in cases {
            let flags = (offset.map { ["--offset", String($0)] } ?? []) + (length.map { ["-l", String($0)] } ?? [])
            let cat = try box.cairn(["cat"] + flags + [root])
            let start = offset ?? 0
            let end = length.map { min(input.count, start + $0) } ?? input.count
            #expect(cat.status == 0 && [UInt8](cat.stdout) == Array(input[min(start, input.count)..<max(end, min(start, input.count))]),
                    "\(flags): \(cat.stderr)")
        }
        for bad in [["--offset=-1"], ["--length=-5"]] {
            let cat = try box.cairn(["cat"] + bad + [root])
            #expect(cat.status == 64 && cat.stderr.hasPrefix("Error: ") && cat.stdout.isEmpty, "\(bad): \(cat.stderr)")
        }
    }
}
