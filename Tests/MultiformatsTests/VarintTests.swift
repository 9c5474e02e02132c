import CairnTestSupport
import Multiformats
import Testing

@Suite struct VarintTests {
    /// Examples from the multiformats unsigned-varint spec README
    /// (github.com/multiformats/unsigned-varint, "Examples").
    static let specExamples: [(UInt64, [UInt8])] = [
        (1, [0x01]), (127, [0x7f]), (128, [0x80, 0x01]), (255, [0xff, 0x01]),
        (300, [0xac, 0x02]), (16384, [0x80, 0x80, 0x01]),
    ]

    @Test func specExamplesEncodeAndDecode() throws {
        for (value, bytes) in Self.specExamples {
            #expect(Varint.encode(value) == bytes)
            #expect(Varint.encodedLength(value) == bytes.count)
            let decoded = try Varint.decode(bytes)
            #expect(decoded.value == value)
            #expect(decoded.length == bytes.count)
        }
    }

    /// The 9-byte limit of the same spec ("a max of 9 bytes (63 bits)"): 2^63-1 is the largest
    /// value and takes exactly nine bytes, eight 0xff and a final 0x7f.
    @Test func largestValueTakesNineBytes() throws {
        let bytes = Varint.encode(Varint.maxValue)
        #expect(bytes == [UInt8](repeating: 0xff, count: 8) + [0x7f])
        #expect(try Varint.decode(bytes).value == Varint.maxValue)
        #expect(Varint.encodedLength(0) == 1)
        #expect(Varint.encode(0) == [0])
    }

    @Test func decodesPrefixAndIgnoresTheRest() throws {
        let bytes: [UInt8] = [0xac, 0x02, 0xff, 0xff]
        let decoded = try Varint.decode(bytes)
        #expect(decoded.value == 300 && decoded.length == 2)
        // A slice that does not start at index 0, and a non-contiguous collection.
        let slice = ([0x99] + bytes)[1...]
        #expect(try Varint.decode(slice).value == 300)
        #expect(try Varint.decode(bytes.lazy.map { $0 }).value == 300)
        let raw = try bytes.withUnsafeBytes { try Varint.decode($0) }
        #expect(raw.value == 300 && raw.length == 2)
    }

    @Test func randomValuesRoundTrip() throws {
        var rng = SplitMix64(seed: 42)
        var stream: [UInt8] = []
        var values: [UInt64] = []
        for i in 0..<2000 {
            // Spread over all lengths: shift a random value down by a random amount.
            let value = (rng.next() >> 1) >> UInt64(i % 63)
            values.append(value)
            let before = stream.count
            Varint.encode(value, into: &stream)
            #expect(stream.count - before == Varint.encodedLength(value))
        }
        var offset = 0
        for value in values {
            let decoded = try Varint.decode(stream[offset...])
            #expect(decoded.value == value)
            offset += decoded.length
        }
        #expect(offset == stream.count)
    }

    @Test func encodeToBuffer() {
        var buffer = [UInt8](repeating: 0xee, count: 10)
        let n = buffer.withUnsafeMutableBytes { Varint.encode(16384, to: $0) }
        #expect(n == 3)
        #expect(Array(buffer.prefix(4)) == [0x80, 0x80, 0x01, 0xee])
    }

    @Test(arguments: [
        ([UInt8](), MultiformatsError.Code.varintTruncated, 0),
        ([0x80], .varintTruncated, 1),
        ([0xff, 0xff], .varintTruncated, 2),
        ([0x80, 0x00], .varintNotMinimal, 1),
        ([0x81, 0x00], .varintNotMinimal, 1),
        ([0xff, 0x80, 0x00], .varintNotMinimal, 2),
        ([UInt8](repeating: 0xff, count: 9) + [0x01], .varintOverflow, 8),
        ([UInt8](repeating: 0x80, count: 9) + [0x01], .varintOverflow, 8),
    ])
    func rejectsMalformed(bytes: [UInt8], code: MultiformatsError.Code, offset: Int) {
        #expect {
            _ = try Varint.decode(bytes)
        } throws: { error in
            guard let error = error as? MultiformatsError else { return false }
            return error.code == code && error.offset == offset
        }
    }

    @Test func errorMessagesSayWhatAndWhere() {
        do {
            _ = try Varint.decode([0x80, 0x00])
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "varint not minimally encoded at offset 1")
        }
    }
}
