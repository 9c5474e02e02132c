import CairnTestSupport
import Foundation
import Hashing
import Testing

/// Digests from published specifications, checked through the one-shot, streaming and batch
/// paths.
@Suite("Published vectors")
struct PublishedVectorTests {
    /// FIPS 180-4 / FIPS 202 example messages (NIST "Cryptographic Standards and Guidelines:
    /// Examples with Intermediate Values"): "abc", the 448-bit message, one million 'a'.
    static let abc = Array("abc".utf8)
    static let message448 = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
    static let millionA = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)

    struct Vector: Sendable, CustomTestStringConvertible {
        let algorithm: HashAlgorithm
        let message: String
        let expected: String
        var testDescription: String { "\(algorithm.rawValue)(\(message))" }

        var input: [UInt8] {
            switch message {
            case "abc": return PublishedVectorTests.abc
            case "448-bit": return PublishedVectorTests.message448
            case "million-a": return PublishedVectorTests.millionA
            case "empty": return []
            default: fatalError("unknown message \(message)")
            }
        }
    }

    static let vectors: [Vector] = [
        // FIPS 180-4 SHA-256 examples (NIST CSRC example values).
        Vector(algorithm: .sha2_256, message: "abc",
               expected: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        Vector(algorithm: .sha2_256, message: "448-bit",
               expected: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        Vector(algorithm: .sha2_256, message: "million-a",
               expected: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        // FIPS 180-4 SHA-512 examples.
        Vector(algorithm: .sha2_512, message: "abc",
               expected: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
        Vector(algorithm: .sha2_512, message: "448-bit",
               expected: "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445"),
        Vector(algorithm: .sha2_512, message: "million-a",
               expected: "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"),
        // FIPS 202 SHA3-256 examples (NIST CSRC example values).
        Vector(algorithm: .sha3_256, message: "empty",
               expected: "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"),
        Vector(algorithm: .sha3_256, message: "abc",
               expected: "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"),
        Vector(algorithm: .sha3_256, message: "448-bit",
               expected: "41c0dba2a9d6240849100376a8235e2c82e1b9998a999e21db32dd97496d3376"),
        Vector(algorithm: .sha3_256, message: "million-a",
               expected: "5c8875ae474a3634ba4fd55ec85bffd661f32aca75c6d699d0cdcb6c115891c1"),
        // FIPS 202 SHA3-512 examples.
        Vector(algorithm: .sha3_512, message: "abc",
               expected: "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0"),
        Vector(algorithm: .sha3_512, message: "448-bit",
               expected: "04a371e84ecfb5b8b77cb48610fca8182dd457ce6f326a0fd3d7ec2f1e91636dee691fbe0c985302ba1b0d8dc78c086346b533b49c030d99a27daf1139d6e75e"),
        Vector(algorithm: .sha3_512, message: "million-a",
               expected: "3c3a876da14034ab60627c077bb98f7e120a2a5370212dffb3385a18d4f38859ed311d0a9d5141ce9cc5c66ee689b266a8aa18ace8282a0e0db596c90b0a7b87"),
        // RFC 7693 Appendix A: BLAKE2b-512("abc").
        Vector(algorithm: .blake2b_512, message: "abc",
               expected: "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"),
    ]

    @Test("one-shot, streaming and batch agree with the published digest", arguments: vectors)
    func publishedDigest(_ vector: Vector) {
        let input = vector.input
        let expected = [UInt8](hex: vector.expected)
        #expect(vector.algorithm.hash(input).bytes == expected)

        var hasher = vector.algorithm.makeHasher()
        hasher.update(input)
        #expect(hasher.finalize().bytes == expected)

        let batch = input.withUnsafeBytes { raw in
            BatchHasher(algorithm: vector.algorithm, threads: 2).hash([HashInput(raw), HashInput(raw)])
        }
        #expect(batch.map(\.bytes) == [expected, expected])
    }

    // MARK: - BLAKE3 official vectors

    struct BLAKE3Case: Decodable, Sendable, CustomTestStringConvertible {
        let input_len: Int
        let hash: String
        let keyed_hash: String
        var testDescription: String { "len \(input_len)" }
    }

    struct BLAKE3File: Decodable {
        let key: String
        let cases: [BLAKE3Case]
    }

    static let blake3File: BLAKE3File = {
        let url = Vectors.fixtures.appendingPathComponent("hashing/blake3_test_vectors.json")
        do {
            return try JSONDecoder().decode(BLAKE3File.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read \(url.path): \(error)")
        }
    }()

    static func blake3Input(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8($0 % 251) }
    }

    @Test("the fixture holds every length of the official file")
    func blake3FixtureComplete() {
        #expect(Self.blake3File.cases.map(\.input_len) == [
            0, 1, 1023, 1024, 1025, 2048, 2049, 3072, 3073, 4096, 4097, 5120, 5121, 6144, 6145,
            7168, 7169, 8192, 8193, 16384, 31744, 102400,
        ])
    }

    @Test("BLAKE3 hash: 32-byte digest and extended output", arguments: blake3File.cases)
    func blake3Hash(_ vector: BLAKE3Case) {
        let input = Self.blake3Input(vector.input_len)
        let expected = [UInt8](hex: vector.hash)
        #expect(HashAlgorithm.blake3.hash(input).bytes == Array(expected.prefix(32)))

        var hasher = BLAKE3()
        hasher.update(input)
        #expect(hasher.finalize(outputByteCount: expected.count) == expected)
        #expect(hasher.finalize().bytes == Array(expected.prefix(32)))

        // Byte-at-a-time streaming walks every buffering branch.
        var slow = BLAKE3()
        for byte in input { slow.update([byte]) }
        #expect(slow.finalize().bytes == Array(expected.prefix(32)))
    }

    @Test("BLAKE3 keyed_hash", arguments: blake3File.cases)
    func blake3Keyed(_ vector: BLAKE3Case) {
        let input = Self.blake3Input(vector.input_len)
        let expected = [UInt8](hex: vector.keyed_hash)
        var hasher = BLAKE3(key: Array(Self.blake3File.key.utf8))
        hasher.update(input)
        #expect(hasher.finalize(outputByteCount: expected.count) == expected)
    }

    // MARK: - Shared inputs

    /// `shared/vectors/inputs.tsv` records the SHA-256 of every shared input (computed by the
    /// vector authors with Python's hashlib). Inputs up to 5 MiB are regenerated and checked.
    @Test("SHA-256 of the shared inputs matches inputs.tsv")
    func sharedInputs() throws {
        let rows = try Vectors.tsv("inputs.tsv")
        var checked = 0
        for row in rows {
            guard let name = row["input"], let size = row["size"].flatMap({ Int($0) }), size <= 5 * 1_048_576,
                  let expected = row["sha256"], let input = Vectors.input(named: name) else { continue }
            #expect(HashAlgorithm.sha2_256.hash(input).hex == expected, "\(name)")
            checked += 1
        }
        #expect(checked >= 20)
    }
}
