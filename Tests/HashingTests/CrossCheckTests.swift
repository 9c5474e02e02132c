import CairnTestSupport
import Foundation
import Hashing
import Testing

/// Every algorithm against digests computed by other implementations (Python hashlib, PyPI
/// blake3) for SplitMix64 inputs at lengths around every block/rate/chunk boundary; see
/// Tests/Fixtures/hashing/README.md.
@Suite("Cross-check against hashlib and blake3")
struct CrossCheckTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let input: String
        let algorithm: HashAlgorithm
        let digest: String
        var testDescription: String { "\(algorithm.rawValue) \(input)" }
    }

    static let rows: [Row] = {
        let url = Vectors.fixtures.appendingPathComponent("hashing/crosscheck.tsv")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { fatalError("missing \(url.path)") }
        return Vectors.parseTSV(text).map { row in
            Row(input: row["input"]!, algorithm: HashAlgorithm(name: row["algorithm"]!)!, digest: row["digest"]!)
        }
    }()

    @Test("the table covers every non-identity algorithm")
    func coverage() {
        let covered = Set(Self.rows.map(\.algorithm))
        #expect(covered == Set(HashAlgorithm.allCases.filter { $0 != .identity }))
        #expect(Self.rows.count >= 39 * 7)
    }

    @Test("one-shot and streaming equal the other implementation", arguments: HashAlgorithm.allCases.filter { $0 != .identity })
    func matches(_ algorithm: HashAlgorithm) throws {
        let rows = Self.rows.filter { $0.algorithm == algorithm }
        var inputs: [[UInt8]] = []
        for row in rows {
            let input = try #require(Vectors.input(named: row.input))
            inputs.append(input)
            #expect(algorithm.hash(input).hex == row.digest, "\(row.testDescription)")
            var hasher = algorithm.makeHasher()
            // Two uneven pieces, so streaming takes a different path than the one-shot.
            let cut = input.count / 3
            hasher.update(input[..<cut])
            hasher.update(input[cut...])
            #expect(hasher.finalize().hex == row.digest, "\(row.testDescription) streaming")
        }
        // All inputs of this algorithm as one batch over two threads.
        let digests = withHashInputs(inputs) { BatchHasher(algorithm: algorithm, threads: 2).hash($0) }
        #expect(digests.map(\.hex) == rows.map(\.digest))
    }
}

/// Calls `body` with one `HashInput` per array, borrowed for the call.
func withHashInputs<R>(_ arrays: [[UInt8]], _ body: ([HashInput]) -> R) -> R {
    func recurse(_ index: Int, _ acc: inout [HashInput]) -> R {
        if index == arrays.count { return body(acc) }
        return arrays[index].withUnsafeBytes { raw in
            acc.append(HashInput(raw))
            return recurse(index + 1, &acc)
        }
    }
    var acc: [HashInput] = []
    return recurse(0, &acc)
}
