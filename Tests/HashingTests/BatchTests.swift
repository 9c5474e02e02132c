import CairnTestSupport
import Hashing
import Testing

@Suite("Batch hashing")
struct BatchTests {
    /// Mixed lengths (empty, tiny, around chunk sizes, 256 KiB leaves) with and without
    /// prefix/suffix segments; enough total bytes to take the multi-threaded path.
    static func makeMessages(seed: UInt64) -> (prefixes: [[UInt8]], bodies: [[UInt8]], suffixes: [[UInt8]]) {
        var random = SplitMix64(seed: seed)
        let sizes = [0, 1, 64, 1000, 1025, 262_144, 262_144, 5, 100_000, 262_143, 8192, 0, 77, 262_145, 33, 4096]
        var prefixes: [[UInt8]] = [], bodies: [[UInt8]] = [], suffixes: [[UInt8]] = []
        for (index, size) in sizes.enumerated() {
            let segmented = index % 3 != 0
            prefixes.append(segmented ? SplitMix64.bytes(seed: random.next(), count: Int.random(in: 0...14, using: &random)) : [])
            bodies.append(SplitMix64.bytes(seed: random.next(), count: size))
            suffixes.append(segmented ? SplitMix64.bytes(seed: random.next(), count: Int.random(in: 0...3, using: &random)) : [])
        }
        return (prefixes, bodies, suffixes)
    }

    static func withInputs<R>(
        _ m: (prefixes: [[UInt8]], bodies: [[UInt8]], suffixes: [[UInt8]]), _ body: ([HashInput]) -> R
    ) -> R {
        withHashInputs(m.prefixes) { prefixes in
            withHashInputs(m.bodies) { bodies in
                withHashInputs(m.suffixes) { suffixes in
                    body((0..<bodies.count).map {
                        HashInput(prefix: prefixes[$0].body, body: bodies[$0].body, suffix: suffixes[$0].body)
                    })
                }
            }
        }
    }

    @Test("mixed lengths and segments equal one-shot, 1 and 2 threads",
          arguments: HashAlgorithm.allCases, [1, 2])
    func mixed(_ algorithm: HashAlgorithm, threads: Int) {
        let messages = Self.makeMessages(seed: 42 + UInt64(threads))
        let expected = (0..<messages.bodies.count).map {
            algorithm.hash(messages.prefixes[$0] + messages.bodies[$0] + messages.suffixes[$0])
        }
        let batch = Self.withInputs(messages) { BatchHasher(algorithm: algorithm, threads: threads).hash($0) }
        #expect(batch == expected)
    }

    @Test("many small messages (grain > 1) and the into: form", arguments: [1, 2])
    func manySmall(threads: Int) {
        let bodies = (0..<3000).map { SplitMix64.bytes(seed: UInt64($0), count: $0 % 300) }
        // Pad the batch past the parallel threshold with two large messages.
        let all = bodies + [SplitMix64.bytes(seed: 9, count: 200_000), SplitMix64.bytes(seed: 10, count: 1)]
        let expected = all.map { HashAlgorithm.sha2_256.hash($0) }
        let hasher = BatchHasher(algorithm: .sha2_256, threads: threads)
        var out = [Digest](repeating: Digest(), count: all.count + 1)
        withHashInputs(all) { inputs in
            out.withUnsafeMutableBufferPointer { hasher.hash(inputs, into: $0) }
        }
        #expect(Array(out.prefix(all.count)) == expected)
        #expect(out.last == Digest())  // the element past the inputs is untouched
    }

    @Test("empty batch and default thread count")
    func edges() {
        let hasher = BatchHasher(algorithm: .blake3)
        #expect(hasher.threads >= 1)
        #expect(hasher.hash([]).isEmpty)
        #expect(BatchHasher(algorithm: .blake3, threads: 0).threads == 1)
    }
}

@Suite("Concurrent callers")
struct ConcurrencyTests {
    /// One-shot and batch calls from several threads at once (each thread has its own cached
    /// OpenSSL context; the fetched EVP_MDs and sodium_init are shared).
    @Test("simultaneous one-shot and batch calls agree with sequential results")
    func simultaneous() async {
        let inputs = (0..<8).map { SplitMix64.bytes(seed: UInt64(100 + $0), count: 40_000 + 977 * $0) }
        let algorithms = HashAlgorithm.allCases
        let expected = algorithms.map { algorithm in inputs.map { algorithm.hash($0) } }
        await withTaskGroup(of: Bool.self) { group in
            for (index, algorithm) in algorithms.enumerated() {
                group.addTask {
                    let oneShot = inputs.map { algorithm.hash($0) }
                    let batch = withHashInputs(inputs) { BatchHasher(algorithm: algorithm, threads: 2).hash($0) }
                    return oneShot == expected[index] && batch == expected[index]
                }
            }
            for await ok in group { #expect(ok) }
        }
    }
}
