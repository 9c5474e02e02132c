import CairnTestSupport
import Foundation
import Hashing
import Testing

/// Every multi-buffer kernel must give the reference digest: OpenSSL's one-buffer SHA-256 and
/// the official BLAKE3 vectors. Each kernel has its own test, enabled only when this CPU can
/// run it, so a kernel the CPU lacks shows up as skipped (with the reason), never as passed.
@Suite("Hash kernels")
struct KernelTests {
    static func kernel(_ algorithm: HashAlgorithm, _ name: String) -> HashKernel {
        guard let kernel = HashKernel.named(name, for: algorithm) else {
            fatalError("no kernel \(name) for \(algorithm)")
        }
        return kernel
    }

    static func supported(_ algorithm: HashAlgorithm, _ name: String) -> Bool {
        kernel(algorithm, name).isSupported
    }

    /// One pseudo-random buffer that every message below is cut from.
    static let pool = SplitMix64.bytes(seed: 77, count: 3 << 20)

    /// Messages of every length 0…4096, each split into up to three segments at random points,
    /// starting at random offsets of the pool; then random large lengths.
    static func messages(seed: UInt64) -> [(offset: Int, cuts: [Int])] {
        var random = SplitMix64(seed: seed)
        var out: [(offset: Int, cuts: [Int])] = []
        func message(length: Int) -> (offset: Int, cuts: [Int]) {
            let offset = Int(random.next() % UInt64(pool.count - length + 1))
            var a = length == 0 ? 0 : Int(random.next() % UInt64(length + 1))
            var b = length == 0 ? 0 : Int(random.next() % UInt64(length + 1))
            if a > b { swap(&a, &b) }
            if random.next() % 3 == 0 { (a, b) = (0, length) }  // often a single segment
            return (offset, [a, b - a, length - b])
        }
        for length in 0...4096 { out.append(message(length: length)) }
        for _ in 0..<24 { out.append(message(length: Int(random.next() % UInt64(2 << 20)))) }
        // Shuffle so lanes see mixed lengths side by side.
        for index in stride(from: out.count - 1, to: 0, by: -1) {
            out.swapAt(index, Int(random.next() % UInt64(index + 1)))
        }
        return out
    }

    /// Hashes the messages with `kernel` and with the reference, and compares every digest.
    static func checkAgainstReference(_ kernel: HashKernel, reference: (UnsafeRawBufferPointer) -> [UInt8]) {
        let plan = messages(seed: 0xC0FFEE &+ UInt64(kernel.lanes))
        pool.withUnsafeBytes { pool in
            let inputs = plan.map { message -> HashInput in
                let start = message.offset
                let c = message.cuts
                return HashInput(
                    prefix: UnsafeRawBufferPointer(rebasing: pool[start..<(start + c[0])]),
                    body: UnsafeRawBufferPointer(rebasing: pool[(start + c[0])..<(start + c[0] + c[1])]),
                    suffix: UnsafeRawBufferPointer(rebasing: pool[(start + c[0] + c[1])..<(start + c[0] + c[1] + c[2])])
                )
            }
            var digests = [Digest](repeating: Digest(), count: inputs.count)
            inputs.withUnsafeBufferPointer { inputs in
                digests.withUnsafeMutableBufferPointer { kernel.hash(inputs, into: $0.baseAddress!) }
            }
            var mismatches = 0
            for (index, message) in plan.enumerated() {
                let length = message.cuts.reduce(0, +)
                let expected = reference(UnsafeRawBufferPointer(rebasing: pool[message.offset..<(message.offset + length)]))
                if digests[index].bytes != expected {
                    mismatches += 1
                    if mismatches <= 3 {
                        Issue.record("\(kernel): wrong digest for a \(length)-byte message split \(message.cuts)")
                    }
                }
            }
            #expect(mismatches == 0, "\(kernel): \(mismatches) of \(plan.count) digests wrong")
        }
    }

    /// The NIST examples (FIPS 180-4: "abc", the 448-bit message, one million 'a').
    static func checkNIST(_ kernel: HashKernel) {
        let cases: [([UInt8], String)] = [
            (Array("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            ([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000),
             "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        ]
        for (message, expected) in cases {
            let digest = message.withUnsafeBytes { raw -> Digest in
                var out = [Digest()]
                [HashInput(raw)].withUnsafeBufferPointer { kernel.hash($0, into: &out[0]) }
                return out[0]
            }
            #expect(digest.hex == expected, "\(kernel) on a \(message.count)-byte NIST message")
        }
    }

    static func sha256(_ name: String) {
        let kernel = kernel(.sha2_256, name)
        checkNIST(kernel)
        checkAgainstReference(kernel) { HashAlgorithm.sha2_256.hash($0).bytes }  // OpenSSL
    }

    @Test(.enabled(if: supported(.sha2_256, "portable"))) func sha256Portable() { Self.sha256("portable") }
    @Test(.enabled(if: supported(.sha2_256, "shani-x1"), "this CPU lacks SHA-NI"))
    func sha256SHANIx1() { Self.sha256("shani-x1") }
    @Test(.enabled(if: supported(.sha2_256, "shani-x2"), "this CPU lacks SHA-NI"))
    func sha256SHANIx2() { Self.sha256("shani-x2") }
    @Test(.enabled(if: supported(.sha2_256, "shani-x4"), "this CPU lacks SHA-NI"))
    func sha256SHANIx4() { Self.sha256("shani-x4") }
    @Test(.enabled(if: supported(.sha2_256, "avx2-x8"), "this CPU lacks AVX2"))
    func sha256AVX2() { Self.sha256("avx2-x8") }
    @Test(.enabled(if: supported(.sha2_256, "avx512-x16"), "this CPU lacks AVX-512 F/BW"))
    func sha256AVX512() { Self.sha256("avx512-x16") }

    // MARK: BLAKE3

    struct BLAKE3File: Decodable {
        struct Case: Decodable { let input_len: Int; let hash: String }
        let cases: [Case]
    }

    /// The official BLAKE3 vectors (fixture `hashing/blake3_test_vectors.json`): input byte i
    /// is i % 251; the first 32 bytes of `hash` are the default digest.
    static func checkOfficialBLAKE3(_ kernel: HashKernel) throws {
        let url = Vectors.fixtures.appendingPathComponent("hashing/blake3_test_vectors.json")
        let file = try JSONDecoder().decode(BLAKE3File.self, from: Data(contentsOf: url))
        #expect(file.cases.count >= 20)
        let longest = file.cases.map(\.input_len).max() ?? 0
        let input = (0..<longest).map { UInt8($0 % 251) }
        try input.withUnsafeBytes { raw in
            let inputs = file.cases.map { HashInput(UnsafeRawBufferPointer(rebasing: raw[0..<$0.input_len])) }
            var digests = [Digest](repeating: Digest(), count: inputs.count)
            inputs.withUnsafeBufferPointer { inputs in
                digests.withUnsafeMutableBufferPointer { kernel.hash(inputs, into: $0.baseAddress!) }
            }
            for (index, item) in file.cases.enumerated() {
                try #require(item.hash.count >= 64, "vector \(item.input_len) has no 32-byte hash")
                #expect(digests[index].hex == String(item.hash.prefix(64)), "\(kernel), input length \(item.input_len)")
            }
        }
    }

    static func blake3(_ name: String) throws {
        let kernel = kernel(.blake3, name)
        try checkOfficialBLAKE3(kernel)
        // Against the portable Swift BLAKE3 (itself checked against the official vectors).
        checkAgainstReference(kernel) { BLAKE3.hash($0).bytes }
    }

    @Test func blake3Portable() throws { try Self.blake3("portable") }
    @Test(.enabled(if: supported(.blake3, "sse41-x4"), "this CPU lacks SSE4.1"))
    func blake3SSE41() throws { try Self.blake3("sse41-x4") }
    @Test(.enabled(if: supported(.blake3, "avx2-x8"), "this CPU lacks AVX2"))
    func blake3AVX2() throws { try Self.blake3("avx2-x8") }
    @Test(.enabled(if: supported(.blake3, "avx512-x16"), "this CPU lacks AVX-512"))
    func blake3AVX512() throws { try Self.blake3("avx512-x16") }

    @Test func everyAlgorithmHasAKernelAndTheBestIsSupported() {
        for algorithm in HashAlgorithm.allCases {
            #expect(!HashKernel.all(for: algorithm).isEmpty)
            #expect(HashKernel.best(for: algorithm).isSupported)
        }
    }
}
