import CairnTestSupport
import Chunking
import Testing

/// Every row of `shared/vectors/chunks.tsv`: count, sha256 of the boundary list, and the full
/// list where a list file is given. Inputs are regenerated with SplitMix64 and checked against
/// `inputs.tsv` first.
@Suite struct ChunkVectorTests {
    static let rows: [[String: String]] = (try? Vectors.tsv("chunks.tsv")) ?? []
    static let inputNames: [String] = {
        var seen: [String] = []
        for row in rows where !seen.contains(row["input"]!) { seen.append(row["input"]!) }
        return seen
    }()

    @Test func vectorTableIsThere() {
        #expect(Self.rows.count == 254)
        #expect(Self.inputNames.count == 26)
    }

    @Test(arguments: inputNames)
    func everySpecOfInput(_ name: String) throws {
        let input = InputCache.input(name)
        let expectedInput = try #require(try Vectors.tsv("inputs.tsv").first { $0["input"] == name })
        #expect(input.count == Int(expectedInput["size"]!))
        #expect(input.withUnsafeBytes { TestSHA256.hex($0) } == expectedInput["sha256"], "input \(name) regenerated wrongly")

        for row in Self.rows where row["input"] == name {
            let specText = row["spec"]!
            let spec = try ChunkerSpec(parsing: specText)
            let list = listText(boundaries(spec.makeChunker(), of: input))
            let count = list.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            #expect(count == Int(row["count"]!), "\(name) \(specText): chunk count")
            #expect(TestSHA256.hex(list.utf8) == row["sha256_of_list"], "\(name) \(specText): sha256 of the list")
            if let file = row["list_file"], !file.isEmpty, file != "-" {
                #expect(list == (try Vectors.text(file)), "\(name) \(specText): full list")
            }
        }
    }
}

@Suite struct TestSHA256Checks {
    @Test func fipsExamples() {
        // FIPS 180-4 / NIST example "abc", and the empty message.
        #expect(TestSHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(TestSHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // NIST two-block example.
        #expect(
            TestSHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func matchesInputsTable() throws {
        for row in try Vectors.tsv("inputs.tsv") where Int(row["size"]!)! <= 1_048_577 {
            let bytes = try #require(Vectors.input(named: row["input"]!))
            #expect(TestSHA256.hex(bytes) == row["sha256"], "\(row["input"]!)")
        }
    }
}
