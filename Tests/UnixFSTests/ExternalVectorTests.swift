import CairnTestSupport
import Multiformats
import Testing
@testable import UnixFS

/// Published file CIDs of shared/reference/external-vectors.md whose input can be rebuilt
/// (literal texts, zero-filled files). Section numbers refer to that file.
@Suite struct ExternalVectorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var input: [UInt8]
        var flags: [String]
        var cid: String
        var source: String
        var testDescription: String { "\(source) \(flags.joined(separator: " "))" }

        init(_ text: String, _ flags: String, _ cid: String, _ source: String) {
            self.input = Array(text.utf8)
            self.flags = flags.isEmpty ? [] : flags.split(separator: " ").map(String.init)
            self.cid = cid
            self.source = source
        }
    }

    static let literal: [Case] = [
        Case("Hello Worlds!\n", "", "QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH", "B1 t0040"),
        Case("Hello Worlds!\n", "-t", "QmUkUQgxXeggyaD5Ckv8ZqfW8wHBX6cYyeiyqvVZYzq5Bi", "B1 t0040"),
        Case("Hello Worlds!\n", "--chunker rabin", "QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH", "B1 t0040"),
        Case("Hello Worlds!\n", "--chunker rabin-36-512-1024", "QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH", "B1 t0040"),
        Case("Hello Worlds!\n", "--chunker size-64", "QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH", "B1 t0040"),
        Case("Hello Worlds!\n", "--chunker buzhash", "QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH", "B1 t0040"),
        Case("Helloo Worlds!\n", "", "Qmf35k66MZNW2GijohUmXQEWKZU4cCGTCwK6idfnt152wJ", "B1 t0040"),
        Case("IPFS\n", "", "QmdFyxZXsFiP4csgfM5uPu99AvFiKH62CSPDw5TP92nr7w", "B1 t0040"),
        Case("Hello Venus!\n", "", "QmU5kp3BH3B8tnWUU2Pikdb2maksBNkb92FHRr56hyghh4", "B1 t0040"),
        Case("Hello Jupiter!\n", "", "QmUnvPcBctVTAcJpigv6KMqDvmDewksPWrNVoy1E1WP5fh", "B1 t0040"),
        Case("Hello Neptune!\nHello Pluton!", "", "QmZDhWpi8NvKrekaYYhxKCdNVGWsFFe1CREnAjP1QbPaB3", "B1 t0040"),
        Case("Hello MFS!\n", "", "QmVT8bL3sGBA2TwvX8JPhrv5CYZL8LLLfW7mxkUjPZsgBr", "B1 t0040"),
        Case("file1\n", "--cid-version 1", "bafkreihm3rktn5z33luic3youqdsn326toaq3ekesmdvsa53sbrd3f5r3a", "B1 t0040"),
        Case("file2\n", "--cid-version 1", "bafkreidh5zkhr2vnwa2luwmuj24xo6l3jhfgvkgtk5cyp43oxs7owzpxby", "B1 t0040"),
        Case("World\n", "", "Qma9CyFdG5ffrZCcYSin2uAETygB25cswVwEYYzwfQuhTe", "B1 t0040"),
        Case("", "", "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH", "B1 t0040 empty"),
        Case("", "--raw-leaves", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", "B1 t0040 empty"),
        Case("", "--cid-version=1 --raw-leaves=false", "bafybeif7ztnhq65lumvvtr4ekcwd2ifwgm3awq4zfr3srh462rwyinlb4y", "B1 UnixFS spec"),
        Case("hello world", "", "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD", "B1 add_test.go"),
        Case("hello world", "--cid-version=1", "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e", "B1 add_test.go"),
        Case("hello world", "--cid-version=1 --raw-leaves=false", "bafybeihykld7uyxzogax6vgyvag42y7464eywpf55gxi5qpoisibh3c5wa", "B1 add_test.go"),
        Case("hello world", "--hash=sha2-512", "bafkrgqbqt3gerhas23vuzrapkdeqf4vu2dwxp3srdj6hvg6nhsug2tgyn6mj3u23yx7utftq3i2ckw2fwdh5qmhid5qf3t35yvkc5e5ottlw6", "B1 add_test.go"),
        Case("hello world", "--profile=unixfs-v1-2025", "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e", "B7 IPIP-499"),
        Case("hello world", "--profile=unixfs-v0-2015", "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD", "B7 IPIP-499"),
        Case("hello world\n", "", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", "B1"),
        Case("hello world\n", "--cid-version=1", "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4", "B1"),
        Case("Hello Mars!\n", "", "QmPrrHqJzto9m7SyiRzarwkqPcCSsKR2EB1AyqJfe8L8tN", "B1 planets"),
        Case("Hello Mars!\n", "--raw-leaves", "bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4", "B1 planets"),
        Case("Hello Mars!\n", "--cid-version=1 --raw-leaves=false", "bafybeiawta2ntdmsy24aro35w3homzl4ak7svr3si7l7gesvq4erglyye4", "B1 planets"),
        Case("Hello Mars!\n", "--hash=blake2b-256", "bafk2bzaceaqcxw46uzkyd2jmczoogof6pnkqt4dpiv3pwkunsv4g5rkkmecie", "B1 planets"),
        Case("Hello Venus!\n", "--hash=blake2b-256", "bafk2bzacebxnke2fb5mgzxyjuuavvcfht4fd3gvn4klkujz6k72wboynhuvfw", "B1 planets"),
        Case("jkD98jkD975hkD8\n", "--inline --raw-leaves", "bafkqaedknncdsodknncdsnzvnbvuioak", "B4 t0046"),
        Case("jkD98jkD975hkD8\n", "--inline", "bafyaagakcyeaeeqqnjvuiojynjvuiojxgvugwrbybimba", "B4 t0046 (derived)"),
        Case("djkd7jdkd7jkHHG\n", "--hash=identity", "bafkqaedenjvwin3kmrvwin3knneeqryk", "B4 t0046 (derived)"),
        Case("", "--inline --cid-version=1", "bafkqaaa", "UnixFS spec (empty raw, inline)"),
        Case("Hello from IPFS Gateway Checker\n", "--cid-version=1 --raw-leaves=false", "bafybeifx7yeb55armcsxwwitkymga5xf53dxiarykms3ygqic223w5sk3m", "B10 UnixFS spec appendix"),
    ]

    @Test(arguments: literal)
    func literalInput(_ vector: Case) throws {
        let parameters = try ImportOptions(kuboArguments: vector.flags).resolve()
        var sink = DiscardingSink()
        let result = try FileImporter(parameters: parameters, threads: 1).importBytes(vector.input, into: &sink)
        #expect(result.root.description == vector.cid)
    }

    /// js-ipfs-unixfs "go-ipfs parity": 45 900 000 zero bytes (176 chunks, depth 2), B9.
    @Test(arguments: [
        ("", "QmRdPboiJQoZ5cdazR9a8vGqdJvWg6M5bfdtUSKNHpuscj"),
        ("--trickle", "QmdZcefqMZ3tzdS4CRBN5s1c67eS3nQzN8TNXFBYfgofoy"),
    ])
    func zeros(flags: String, cid: String) throws {
        let zeros = [UInt8](repeating: 0, count: 45_900_000)
        let parameters = try ImportOptions(kuboArguments: flags.isEmpty ? [] : [flags]).resolve()
        var sink = DiscardingSink()
        let result = try FileImporter(parameters: parameters).importBytes(zeros, into: &sink)
        #expect(result.root.description == cid)
    }

    /// kubo-import-semantics.md §1.3: the root of sm1_262145 (two leaves) records Tsize 262267
    /// for the whole file. blocks/sm1_262145.default.txt (boxo v0.42's blocks) lists the same
    /// three blocks, whose sizes add up to it.
    @Test func cumulativeSize() throws {
        let bytes = try #require(Vectors.input(named: "sm1_262145"))
        var sink = CollectingSink()
        let result = try FileImporter().importBytes(bytes, into: &sink)
        let listing = try Vectors.text("blocks/sm1_262145.default.txt").split(separator: "\n").dropFirst()
        let listedSizes = listing.map { UInt64($0.split(separator: " ")[1])! }
        #expect(listedSizes.reduce(0, +) == 262_267)
        #expect(result.size == 262_267)
        #expect(result.blockCount == listedSizes.count)
        #expect(sink.distinctBlocks.map { UInt64($0.bytes.count) } == listedSizes)
    }
}
