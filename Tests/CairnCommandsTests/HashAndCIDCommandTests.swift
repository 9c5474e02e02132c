import CairnTestSupport
import Foundation
import Testing

/// End-to-end tests of `cairn hash` and `cairn cid`, running the built binary.
@Suite("cairn hash / cairn cid")
struct HashAndCIDCommandTests {
    /// A CID for `hello` taken as one raw block. Expected values are built here from the
    /// published digests of FIPS 180-4 ("abc") rather than typed in: the CID's binary form is
    /// 0x01 (version) 0x55 (raw) 0x12 0x20 (sha2-256, 32 bytes) + digest, base32 lower, prefix b.
    static func rawCID(sha256Hex: String) -> String {
        let bytes = [0x01, 0x55, 0x12, 0x20] + [UInt8](hex: sha256Hex)
        return "b" + base32(bytes)
    }

    static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var out = "", buffer: UInt32 = 0, bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte); bits += 8
            while bits >= 5 { out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)]); bits -= 5 }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return out
    }

    @Test func hashOfStandardInputMatchesTheNISTDigest() throws {
        let result = try CairnProcess.run(["hash", "-"], stdin: Data("abc".utf8))
        #expect(result.status == 0)
        // FIPS 180-4 example: SHA-256("abc").
        let expected = Self.rawCID(sha256Hex: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(result.stdoutText == expected + "\n")
    }

    /// Multihash prefix (code varint, length) of each hash and the Python `hashlib` constructor
    /// that computes its digest (multicodec table: sha2-256 0x12, sha2-512 0x13, sha3-256 0x16,
    /// blake2b-256 0xb220 = varint a0 e4 02).
    static let hashlibHashes: [(name: String, prefix: [UInt8], python: String)] = [
        ("sha2-256", [0x12, 0x20], "hashlib.sha256()"),
        ("sha2-512", [0x13, 0x40], "hashlib.sha512()"),
        ("sha3-256", [0x16, 0x20], "hashlib.sha3_256()"),
        ("blake2b-256", [0xa0, 0xe4, 0x02, 0x20], "hashlib.blake2b(digest_size=32)"),
    ]

    /// The hex digest Python's hashlib gives for the file at `path`.
    static func hashlibDigest(_ constructor: String, of path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import hashlib,sys; h=\(constructor); h.update(open(sys.argv[1],'rb').read()); print(h.hexdigest())", path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 hashlib failed")
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A file and the same bytes on stdin both give the CID of the digest Python's hashlib
    /// computes (BLAKE3, which hashlib lacks, is checked against its published vectors below).
    @Test func hashOfAFileAndOfStandardInputMatchHashlib() throws {
        let bytes = SplitMix64.bytes(seed: 5, count: 3_000_001)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-hash-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        for (hash, prefix, python) in Self.hashlibHashes {
            let expected = "b" + Self.base32([0x01, 0x55] + prefix + [UInt8](hex: try Self.hashlibDigest(python, of: url.path))) + "\n"
            let fromFile = try CairnProcess.run(["hash", "--hash", hash, url.path])
            let fromPipe = try CairnProcess.run(["hash", "--hash", hash, "-"], stdin: Data(bytes))
            #expect(fromFile.status == 0 && fromPipe.status == 0, "\(hash): \(fromFile.stderr)\(fromPipe.stderr)")
            #expect(fromFile.stdoutText == expected, "\(hash) of a file")
            #expect(fromPipe.stdoutText == expected, "\(hash) of stdin")
        }
    }

    /// BLAKE3 of a file and of stdin: the published vector (input byte i is i mod 251).
    @Test func blake3OfAFileAndOfStandardInputMatchThePublishedVector() throws {
        let (bytes, expected) = try KernelForcingTests.publishedBlake3()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-hash-\(UUID().uuidString)")
        try bytes.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let fromFile = try CairnProcess.run(["hash", "--hash", "blake3", url.path])
        let fromPipe = try CairnProcess.run(["hash", "--hash", "blake3", "-"], stdin: bytes)
        #expect(fromFile.status == 0 && fromPipe.status == 0)
        #expect(fromFile.stdoutText == expected)
        #expect(fromPipe.stdoutText == expected)
    }

    @Test func cidSpecExampleConvertsFromV0ToV1() throws {
        // The CID specification's example pair (multiformats/cid README).
        let result = try CairnProcess.run(["cid", "format", "--v1", "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n"])
        #expect(result.stdoutText == "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku\n")
        let inspect = try CairnProcess.run(["cid", "inspect", "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n"])
        #expect(inspect.stdoutText.contains("version: 0"))
        #expect(inspect.stdoutText.contains("codec: dag-pb"))
        #expect(inspect.stdoutText.contains("base: base58btc"))
    }

    /// The spec example's CIDv1 in other bases, as the Python `multiformats` 0.3.1 package (in
    /// the venv) writes them: `CID.decode(v1).encode(base)`.
    static let otherBases: [(base: String, text: String)] = [
        ("base16", "f01701220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("base32upper", "BAFYBEIHDWDCEFGH4DQKJV67UZCMW7OJEE6XEDZDETOJUZJEVTENXQUVYKU"),
        ("base36", "k2jmtxx1epa2wl096hsbpuhrz9xhppklonehzwkmskc9rmeb51kwn4ut"),
        ("base58btc", "zdj7Wkkhxcu2rsiN6GUyHCLsSLL47kdUNfjbFqBUUhMFTZKBi"),
        ("base64url", "uAXASIOOwxEKY_BwUmvv0yJlvuSQnrkHkZJuTTKSVmRt4UrhV"),
        ("base32hex", "v05o14873m324567s3ga9luvkp2cmve944un43p34je9kp94lj4dngkloak"),
    ]

    @Test func reEncodingRoundTripsThroughEveryBase() throws {
        let v1 = "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        for (base, text) in Self.otherBases {
            let other = try CairnProcess.run(["cid", "format", "--base", base, v1])
            #expect(other.status == 0, "\(base): \(other.stderr)")
            #expect(other.stdoutText == text + "\n", "--base \(base)")
            let back = try CairnProcess.run(["cid", "format", text])
            #expect(back.status == 0, "\(base): \(back.stderr)")
            #expect(back.stdoutText == v1 + "\n", "via \(base)")
        }
    }

    @Test(arguments: [
        ["cid", "inspect", "bafyXXX"],
        ["cid", "inspect", "Qm123"],
        ["cid", "inspect", ""],
        ["cid", "format", "--base", "base99", "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"],
        ["cid", "format", "--base", "base32", "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n"],
        ["hash", "--hash", "md5", "-"],
        ["hash", "--codec", "dag-cbor", "-"],
        ["hash", "/nonexistent/cairn-test-file"],
        ["hash", "/"],
    ])
    func badInputIsOneLineOnStderrAndANonZeroExit(_ arguments: [String]) throws {
        let result = try CairnProcess.run(arguments, stdin: Data())
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        // spec/cli.md: the error is one line; only a usage error (64) may add ArgumentParser's
        // usage hint ("Usage: …", "  See '… --help' …") after it.
        #expect(result.stderr.hasSuffix("\n"))
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix("Error: ") == true, "stderr: \(result.stderr)")
        let hints = lines.dropFirst()
        #expect(hints.isEmpty || result.status == 64, "more than one line: \(result.stderr)")
        #expect(hints.allSatisfy { $0.hasPrefix("Usage: ") || $0.hasPrefix("  See '") }, "stderr: \(result.stderr)")
    }

    @Test func identityHashCarriesTheInput() throws {
        let result = try CairnProcess.run(["hash", "--hash", "identity", "-"], stdin: Data("hi".utf8))
        #expect(result.status == 0)
        // identity (0x00), length 2, then the bytes themselves.
        #expect(result.stdoutText == "b" + Self.base32([0x01, 0x55, 0x00, 0x02, 0x68, 0x69]) + "\n")
        let big = try CairnProcess.run(["hash", "--hash", "identity", "-"], stdin: Data(count: 4096))
        #expect(big.status != 0)
    }
}

/// `CAIRN_HASH_KERNEL` forces a kernel; a kernel the CPU lacks or an unknown name falls back
/// to the default. Checked through a child process, since the variable is process-wide.
@Suite("Kernel forcing")
struct KernelForcingTests {
    static func selected(_ value: String?, hash: String = "sha2-256") throws -> String {
        var environment: [String: String] = [:]
        if let value { environment["CAIRN_HASH_KERNEL"] = value }
        let result = try CairnProcess.run(
            ["bench", "hash", "--hash", hash, "--kernel", "portable", "--size", "65536", "--total", "65536"],
            environment: environment
        )
        #expect(result.status == 0, "bench hash: \(result.stderr)")
        let header = result.stdoutText.split(separator: "\n").first ?? ""
        return String(header.split(separator: " ").last ?? "")
    }

    @Test func forcedKernelIsSelected() throws {
        #expect(try Self.selected("portable") == "portable")
        #expect(try Self.selected("sha2-256=portable") == "portable")
        #expect(try Self.selected("blake3=portable", hash: "blake3") == "portable")
        #expect(try Self.selected("sha2-256=portable,blake3=sse41-x4", hash: "blake3") != "portable")
    }

    @Test func unknownNameFallsBackToTheDefault() throws {
        let fallback = try Self.selected("no-such-kernel"), normal = try Self.selected(nil)
        #expect(!normal.isEmpty, "bench printed no kernel name")
        #expect(fallback == normal)
    }

    /// BLAKE3's published test vectors (Tests/Fixtures/hashing/blake3_test_vectors.json): input
    /// byte i is i mod 251; the 102400-byte case spans 100 chunks, enough for every SIMD width.
    /// Each kernel, or the default a kernel the CPU lacks falls back to, must print the published
    /// digest, with a zero exit.
    /// The 102400-byte input of the published BLAKE3 vectors and the `cairn hash` line its
    /// published digest gives: a raw CIDv1 with a blake3 multihash, 0x01 0x55 0x1e 0x20 + digest.
    static func publishedBlake3() throws -> (input: Data, line: String) {
        let length = 102_400
        let url = Vectors.fixtures.appendingPathComponent("hashing/blake3_test_vectors.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let cases = try #require(json["cases"] as? [[String: Any]])
        let published = try #require(cases.first { $0["input_len"] as? Int == length }?["hash"] as? String)
        let line = "b" + HashAndCIDCommandTests.base32([0x01, 0x55, 0x1e, 0x20] + [UInt8](hex: String(published.prefix(64)))) + "\n"
        return (Data((0..<length).map { UInt8($0 % 251) }), line)
    }

    @Test func forcedKernelGivesThePublishedDigest() throws {
        let (bytes, expected) = try Self.publishedBlake3()
        for kernel in [nil, "portable", "sse41-x4", "avx2-x8", "avx512-x16"] {
            let forced = try CairnProcess.run(
                ["hash", "--hash", "blake3", "-"], stdin: bytes, environment: kernel.map { ["CAIRN_HASH_KERNEL": $0] } ?? [:])
            #expect(forced.status == 0, "\(kernel ?? "default"): \(forced.stderr)")
            #expect(forced.stdoutText == expected, "\(kernel ?? "default")")
        }
    }
}
