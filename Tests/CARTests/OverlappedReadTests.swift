@testable import CAR
import CairnTestSupport
import Chunking
import Multiformats
import Testing
import UnixFS

/// `CARReadOptions.overlapsBody` (spec/car.md "Memory"): the next batch is verified while the
/// body takes the previous one, from a second buffer. Everything the caller sees must be what
/// the plain reader gives: the same blocks with the same bytes and offsets in the same order,
/// and on a bad CAR the same error after the same blocks.
@Suite struct OverlappedReadTests {
    /// About 2 MiB in 16 KiB leaves (dag-pb, CIDv0): with the smallest buffer (64 KiB) each
    /// batch holds three or four sections, so a read has some forty batches.
    static let car: (root: CID, car: [UInt8]) = {
        var parameters = ImportParameters.kuboDefault
        parameters.chunker = .fixed(size: 16 << 10)
        return try! CARTestSupport.carFromImport(SplitMix64.bytes(seed: 41, count: 2 << 20), parameters)
    }()

    struct Seen: Equatable {
        var blocks: [String] = []
        var error: String?
    }

    /// What a read shows the caller: each block (CID, a digest of its bytes, offsets) in order,
    /// then the error, if any. The body throws at block `failAt`.
    static func read(_ car: [UInt8], overlapped: Bool, failAt: Int? = nil) -> Seen {
        var options = CARVerifyOptions()
        options.read.bufferBytes = 0
        options.read.maxSectionBytes = 20 << 10
        options.read.overlapsBody = overlapped
        var seen = Seen()
        do {
            _ = try CARVerifier.verify(CARMemorySource(car), options: options) { block in
                if seen.blocks.count == failAt { throw CARError(.io, "the body failed at block \(seen.blocks.count)") }
                let sum = block.bytes.reduce(into: UInt64(0)) { $0 = $0 &* 31 &+ UInt64($1) }
                seen.blocks.append("\(block.cid) \(block.bytes.count) \(sum) \(block.offset) \(block.payloadOffset)")
            }
        } catch let error as CARError {
            seen.error = "\(error.code) \(error.offset.map(String.init) ?? "-") \(error.message)"
        } catch {
            seen.error = "\(error)"
        }
        return seen
    }

    static func expectSame(_ car: [UInt8], failAt: Int? = nil, expectError: Bool) {
        let plain = read(car, overlapped: false, failAt: failAt)
        let overlapped = read(car, overlapped: true, failAt: failAt)
        #expect(plain == overlapped)
        #expect((plain.error != nil) == expectError, "\(plain.error ?? "no error")")
    }

    @Test func aGoodCARGivesTheSameBlocksInTheSameOrder() throws {
        let plain = Self.read(Self.car.car, overlapped: false)
        #expect(plain.error == nil)
        let (_, blocks) = try CARTestSupport.readAll(Self.car.car)
        #expect(plain.blocks.count == blocks.count)
        #expect(plain.blocks.count > 120)
        Self.expectSame(Self.car.car, expectError: false)
    }

    /// A corrupt block far into the CAR: the batches before it are delivered, its own batch is
    /// not, and the error names it, in both modes.
    @Test(arguments: [0.1, 0.5, 0.97])
    func aCorruptBlockStopsAtTheSameBlock(_ at: Double) {
        var bad = Self.car.car
        bad[Int(Double(bad.count) * at)] ^= 0x20
        Self.expectSame(bad, expectError: true)
        let seen = Self.read(bad, overlapped: true)
        #expect(seen.blocks.count < Self.read(Self.car.car, overlapped: true).blocks.count)
    }

    @Test(arguments: [0, 1, 5, 40, 100])
    func aFailingBodyEndsTheReadTheSameWay(_ failAt: Int) {
        Self.expectSame(Self.car.car, failAt: failAt, expectError: true)
        #expect(Self.read(Self.car.car, overlapped: true, failAt: failAt).blocks.count == failAt)
    }

    @Test(arguments: [1_000, 700_000, 2_000_000])
    func aTruncatedCAREndsTheSameWay(_ length: Int) {
        Self.expectSame(Array(Self.car.car.prefix(length)), expectError: true)
    }
}
