import CairnTestSupport
import Foundation
import Multiformats
import Testing

/// Reads the multibase spec's test CSVs (Tests/Fixtures/multiformats, see its README for the
/// upstream source and commits).
enum MultibaseFixtures {
    struct Row: Sendable, CustomTestStringConvertible {
        var file: String
        var name: String
        var text: String
        var input: [UInt8]
        var testDescription: String { "\(file): \(name)" }
    }

    static func text(_ file: String) throws -> String {
        try String(contentsOf: Vectors.fixtures.appendingPathComponent("multiformats/\(file)"), encoding: .utf8)
    }

    /// Undoes the `\xNN` escapes of the CSV header.
    static func unescape(_ s: Substring) -> [UInt8] {
        var out: [UInt8] = []
        let utf8 = Array(s.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "\\"), i + 3 < utf8.count, utf8[i + 1] == UInt8(ascii: "x"),
               let byte = UInt8(String(decoding: utf8[(i + 2)...(i + 3)], as: UTF8.self), radix: 16) {
                out.append(byte)
                i += 4
            } else {
                out.append(utf8[i])
                i += 1
            }
        }
        return out
    }

    static func quoted(_ field: Substring) -> Substring {
        let trimmed = field.drop(while: { $0 == " " })
        return trimmed.dropFirst().dropLast()  // the surrounding quotes
    }

    static func rows(_ file: String) throws -> [Row] {
        let lines = try text(file).split(separator: "\n")
        let header = lines[0].split(separator: ",", maxSplits: 1)
        let input = unescape(quoted(header[1]))
        return lines.dropFirst().map { line in
            let parts = line.split(separator: ",", maxSplits: 1)
            return Row(file: file, name: String(parts[0]), text: String(quoted(parts[1])), input: input)
        }
    }

    static let canonicalFiles = ["basic.csv", "leading_zero.csv", "two_leading_zeros.csv", "test1.csv", "test3.csv"]
}

@Suite struct MultibaseTests {
    static let canonicalRows: [MultibaseFixtures.Row] =
        (try? MultibaseFixtures.canonicalFiles.flatMap { try MultibaseFixtures.rows($0) }) ?? []

    @Test func fixturesAreThere() throws {
        // Guards the argument lists below against silently testing nothing.
        #expect(Self.canonicalRows.count > 90)
        #expect(try MultibaseFixtures.rows("test6.csv").count == 12)
        let implemented = Self.canonicalRows.filter { Multibase(name: $0.name) != nil }
        #expect(Set(implemented.map(\.name)).count == Multibase.allCases.count - 1)  // all but identity
    }

    /// Every spec vector in a base we implement encodes to exactly the listed text and decodes back.
    @Test(arguments: canonicalRows.filter { Multibase(name: $0.name) != nil })
    func specVectors(row: MultibaseFixtures.Row) throws {
        let base = try #require(Multibase(name: row.name))
        #expect(base.encode(row.input) == row.text)
        let (decodedBase, bytes) = try Multibase.decode(row.text)
        #expect(decodedBase == base)
        #expect(bytes == row.input)
        #expect(base.encodeWithoutPrefix(row.input) == String(row.text.dropFirst()))
        #expect(try base.decodeWithoutPrefix(row.text.dropFirst()) == row.input)
    }

    /// test6.csv: mixed-case text in the case-insensitive bases must decode.
    @Test func caseInsensitiveVectorsDecode() throws {
        let rows = try MultibaseFixtures.rows("test6.csv")
        for row in rows {
            let (base, bytes) = try Multibase.decode(row.text)
            #expect(base.name == row.name)
            #expect(bytes == row.input, "\(row.name)")
        }
    }

    /// Tests/Fixtures/multiformats/random.tsv: encodings by the Python `multiformats` reference
    /// implementation, cross-checked by a second one (see gen-random.py).
    @Test func referenceImplementationVectors() throws {
        let rows = Vectors.parseTSV(try MultibaseFixtures.text("random.tsv"))
        #expect(rows.count == 2622)
        for row in rows {
            let zeros = Int(row["zeros"]!)!, seed = UInt64(row["seed"]!)!, size = Int(row["size"]!)!
            let input = [UInt8](repeating: 0, count: zeros) + SplitMix64.bytes(seed: seed, count: size)
            let base = try #require(Multibase(name: row["encoding"]!))
            let text = row["text"]!
            #expect(base.encode(input) == text, "\(row)")
            let (decodedBase, bytes) = try Multibase.decode(text)
            #expect(decodedBase == base && bytes == input, "\(row)")
        }
    }

    @Test(arguments: Multibase.allCases)
    func randomDataRoundTrips(base: Multibase) throws {
        var rng = SplitMix64(seed: 7)
        for size in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 31, 32, 33, 34, 36, 100, 1000] {
            for zeros in [0, 1, 2] {
                var input = [UInt8](repeating: 0, count: zeros)
                for _ in 0..<size { input.append(UInt8.random(in: 0...255, using: &rng)) }
                if base == .identity {
                    // The identity base is text only for UTF-8 input: check it on bytes. The
                    // multibase spec (multibase.csv: identity, 0x00, "8-bit binary (encoder and
                    // decoder keeps data unmodified)") makes the encoding the input itself.
                    #expect(Self.identityBytesRoundTrip(input) == input, "identity size \(size) zeros \(zeros)")
                    continue
                }
                let text = base.encode(input)
                #expect(text.utf8.count <= base.maxEncodedLength(byteCount: input.count) + 1)
                let (decodedBase, bytes) = try Multibase.decode(text)
                #expect(decodedBase == base)
                #expect(bytes == input, "\(base) size \(size) zeros \(zeros)")
                // Upper/lower-case variants of the case-insensitive bases decode each other.
                if base.name.hasPrefix("base32") && base != .base32z || base.name.hasPrefix("base36") || base.name.hasPrefix("base16") {
                    let swapped = String(text.first!) + text.dropFirst().uppercased()
                    #expect(try Multibase.decode(swapped).1 == input)
                }
            }
        }
    }

    /// `input` through the identity base's byte-level encoder, checked to be the input
    /// unchanged, then decoded back.
    static func identityBytesRoundTrip(_ input: [UInt8]) -> [UInt8]? {
        let base = Multibase.identity
        var encoded = [UInt8](repeating: 0xEE, count: base.maxEncodedLength(byteCount: input.count))
        let written = input.withUnsafeBytes { raw in
            encoded.withUnsafeMutableBufferPointer { base.encode(raw, into: $0) }
        }
        guard written == input.count, Array(encoded.prefix(written)) == input else { return nil }
        var decoded = [UInt8](repeating: 0xEE, count: base.maxDecodedLength(characterCount: written))
        let count = encoded.withUnsafeBufferPointer { characters in
            decoded.withUnsafeMutableBufferPointer { try? base.decode(UnsafeBufferPointer(rebasing: characters.prefix(written)), into: $0) }
        }
        guard let count else { return nil }
        return Array(decoded.prefix(count))
    }

    @Test func identityBase() throws {
        #expect(Multibase.identity.encode(Array("hello".utf8)) == "\u{0}hello")
        let (base, bytes) = try Multibase.decode("\u{0}hello")
        #expect(base == .identity && bytes == Array("hello".utf8))
        #expect(try Multibase.decode("\u{0}").1 == [])
    }

    @Test func emptyInputEncodesToThePrefixAlone() throws {
        for base in Multibase.allCases {
            #expect(base.encode([UInt8]()) == String(base.prefix))
            #expect(try Multibase.decode(String(base.prefix)) == (base, []))
        }
    }

    @Test func lookupByNameAndPrefix() {
        #expect(Multibase.allCases.count == 20)
        #expect(Set(Multibase.allCases.map(\.name)).count == 20)
        #expect(Set(Multibase.allCases.map(\.prefix)).count == 20)
        for base in Multibase.allCases {
            #expect(Multibase(name: base.name) == base)
            #expect(Multibase(prefix: base.prefix) == base)
            #expect(Multibase(prefixByte: base.prefixByte) == base)
            #expect(base.description == base.name)
        }
        // Prefixes from the multibase table (multibase.csv).
        #expect(Multibase.base32.prefix == "b" && Multibase.base58btc.prefix == "z")
        #expect(Multibase.base36.prefix == "k" && Multibase.base64url.prefix == "u")
        #expect(Multibase(prefix: "Q") == nil)
        #expect(Multibase(prefix: "🚀") == nil)
        #expect(Multibase(name: "base2") == nil)
    }

    static func expectError(_ text: String, _ code: MultiformatsError.Code, at offset: Int?,
                            _ message: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let result = try Multibase.decode(text)
            Issue.record("decoded \(text.debugDescription) to \(result.1)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, "\(text.debugDescription): \(error)", sourceLocation: sourceLocation)
            #expect(error.offset == offset, "\(text.debugDescription): \(error)", sourceLocation: sourceLocation)
            if let message {
                #expect(error.description == message, sourceLocation: sourceLocation)
            }
        }
    }

    @Test func rejectsInvalidCharactersWithTheirOffset() {
        Self.expectError("bafybei1xyz", .invalidCharacter, at: 7, "invalid base32 character '1' at offset 7")
        Self.expectError("BAFYBEI1XYZ", .invalidCharacter, at: 7, "invalid base32upper character '1' at offset 7")
        Self.expectError("bafy!", .invalidCharacter, at: 4)
        Self.expectError("b\u{e9}", .invalidCharacter, at: 1, "invalid base32 character byte 0xc3 at offset 1")
        Self.expectError("vaf0w", .invalidCharacter, at: 4)           // base32hex stops at 'v'
        Self.expectError("hafyl", .invalidCharacter, at: 4)           // 'l' is not z-base-32
        Self.expectError("f0g", .invalidCharacter, at: 2, "invalid base16 character 'g' at offset 2")
        Self.expectError("k12!4", .invalidCharacter, at: 3)
        for bad in ["0", "O", "I", "l"] {                              // left out of base58
            Self.expectError("z1a\(bad)b", .invalidCharacter, at: 3)
            Self.expectError("Z1a\(bad)b", .invalidCharacter, at: 3)
        }
        Self.expectError("maGV-", .invalidCharacter, at: 4)           // url alphabet in base64
        Self.expectError("uaGV+", .invalidCharacter, at: 4)           // std alphabet in base64url
        Self.expectError("maGV sbG8", .invalidCharacter, at: 4)       // whitespace is never skipped
    }

    @Test func rejectsUnknownPrefixesAndEmptyText() {
        Self.expectError("", .invalidLength, at: 0, "empty multibase text (no prefix) at offset 0")
        Self.expectError("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbd", .unknownMultibase, at: 0,
                         "unknown multibase prefix 'Q' at offset 0")
        Self.expectError("\u{1F680}\u{1F680}", .unknownMultibase, at: 0, "unknown multibase prefix '\u{1F680}' at offset 0")
        Self.expectError("1abc", .unknownMultibase, at: 0)
    }

    @Test func rejectsImpossibleLengths() {
        Self.expectError("fabc", .invalidLength, at: 4)               // odd hex digit count
        Self.expectError("ba", .invalidLength, at: 2)                 // 1 base32 character
        Self.expectError("babc", .invalidLength, at: 4)               // 3 base32 characters
        Self.expectError("babcdef", .invalidLength, at: 7)            // 6 base32 characters
        Self.expectError("mA", .invalidLength, at: 2)                 // 1 base64 character
        Self.expectError("maGVsb", .invalidLength, at: 6)             // 5 base64 characters
    }

    @Test func paddingRules() throws {
        // Padded variants require the exact RFC 4648 padding.
        Self.expectError("cnbswy3dpeb3w64tmmq", .invalidPadding, at: 19)         // none at all
        Self.expectError("cnbswy3dpeb3w64tmmq===", .invalidPadding, at: 22)      // too short
        Self.expectError("MaGVsbG8gd29ybGQ", .invalidPadding, at: 16)
        Self.expectError("MaGVsbG8gd29ybGQ==", .invalidPadding, at: 18)          // one too many
        Self.expectError("MaG=sbG8gd29ybGQ=", .invalidPadding, at: 3, "misplaced '=' padding in base64pad at offset 3")
        Self.expectError("MaGVsbG8gd29yb===", .invalidLength, at: 14)            // 3 pads never valid in base64
        // Unpadded variants reject any '='.
        Self.expectError("bnbswy3dpeb3w64tmmq======", .invalidPadding, at: 19,
                         "unexpected '=' padding in unpadded base32 at offset 19")
        Self.expectError("bnbswy3dpeb3w64tmmq=", .invalidPadding, at: 19)
        Self.expectError("maGVsbG8gd29ybGQ=", .invalidPadding, at: 16)
        Self.expectError("uaGVsbG8gd29ybGQ=", .invalidPadding, at: 16)
        Self.expectError("ma=Vs", .invalidPadding, at: 2)
        Self.expectError("z1=", .invalidPadding, at: 2)                          // base58 has no padding at all
        // Correctly padded texts decode.
        #expect(try Multibase.decode("cnbswy3dpeb3w64tmmq======").1 == Array("hello world".utf8))
        #expect(try Multibase.decode("MaGVsbG8gd29ybGQ=").1 == Array("hello world".utf8))
    }

    /// Unused bits in the last character must be zero, so each byte string has one text.
    @Test func rejectsNonCanonicalTrailingBits() throws {
        Self.expectError("mAB", .nonCanonical, at: 2)
        Self.expectError("bab", .nonCanonical, at: 2)
        Self.expectError("MAB==", .nonCanonical, at: 2)
        #expect(try Multibase.decode("mAA").1 == [0])
        #expect(try Multibase.decode("baa").1 == [0])
    }
}
