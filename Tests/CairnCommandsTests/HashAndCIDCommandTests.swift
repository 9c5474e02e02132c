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

    @Test func hashOfAFileEqualsHashOfTheSameBytesOnStandardInput() throws {
        let bytes = SplitMix64.bytes(seed: 5, count: 3_000_001)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-hash-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        for hash in ["sha2-256", "sha2-512", "sha3-256", "blake2b-256", "blake3"] {
            let fromFile = try CairnProcess.run(["hash", "--hash", hash, url.path])
            let fromPipe = try CairnProcess.run(["hash", "--hash", hash, "-"], stdin: Data(bytes))
            #expect(fromFile.status == 0 && fromPipe.status == 0)
            #expect(fromFile.stdoutText == fromPipe.stdoutText)
            // The printed CID inspects back to the algorithm asked for.
            let cid = fromFile.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            let inspect = try CairnProcess.run(["cid", "inspect", "--json", cid])
            #expect(inspect.stdoutText.contains("\"multihash\":\"\(hash)\""))
            #expect(inspect.stdoutText.contains("\"codec\":\"raw\""))
        }
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

    @Test func reEncodingRoundTripsThroughEveryBase() throws {
        let v1 = "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        for base in ["base16", "base32upper", "base36", "base58btc", "base64url", "base32hex"] {
            let other = try CairnProcess.run(["cid", "format", "--base", base, v1])
            #expect(other.status == 0)
            let back = try CairnProcess.run(["cid", "format", other.stdoutText.trimmingCharacters(in: .newlines)])
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
        let firstLine = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.hasPrefix("Error: "), "stderr: \(result.stderr)")
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
        #expect(try Self.selected("no-such-kernel") == Self.selected(nil))
    }

    @Test func forcedKernelGivesTheSameCIDs() throws {
        let bytes = Data(SplitMix64.bytes(seed: 9, count: 1_500_000))
        // cairn hash streams BLAKE3 through the selected C kernel (SHA-256 streams through OpenSSL).
        let reference = try CairnProcess.run(["hash", "--hash", "blake3", "-"], stdin: bytes)
        for kernel in ["portable", "sse41-x4", "avx2-x8", "avx512-x16"] {
            let forced = try CairnProcess.run(
                ["hash", "--hash", "blake3", "-"], stdin: bytes, environment: ["CAIRN_HASH_KERNEL": kernel])
            #expect(forced.stdoutText == reference.stdoutText, "\(kernel)")
        }
    }
}
