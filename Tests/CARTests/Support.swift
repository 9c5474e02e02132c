@testable import CAR
import CairnTestSupport
import Foundation
import Hashing
import Multiformats
import UnixFS
import Blocks

/// Shared helpers for the CAR tests.
enum CARTestSupport {
    /// Byte positions of the CARv2 header fields (CARv2 spec, ipld.io/specs/transport/car/carv2:
    /// an 11-byte pragma, then a 40-byte header of 16 characteristics bytes and three
    /// little-endian uint64s: data offset, data size, index offset).
    enum V2Field {
        static let dataOffset = 27, dataSize = 35, indexOffset = 43
        /// Where the payload starts when it directly follows the header: 11 + 40.
        static let headerEnd = 51
    }

    /// The little-endian uint64 at `offset`, read without the CAR module.
    static func readLE(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    /// A fixture of Tests/Fixtures/car/ given as hex text.
    static func fixture(_ name: String) throws -> [UInt8] {
        let text = try String(contentsOf: Vectors.fixtures.appendingPathComponent("car/\(name)"), encoding: .utf8)
        guard let bytes = Hex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CARError(.invalidUse, "fixture \(name) is not hex")
        }
        return bytes
    }

    /// Imports `data` with `parameters` and returns the blocks (pipeline order) and the root.
    static func importBlocks(_ data: [UInt8], _ parameters: ImportParameters = .kuboDefault) throws -> (root: CID, blocks: [Block]) {
        var sink = CollectingSink()
        let result = try FileImporter(parameters: parameters, threads: 1).importBytes(data, into: &sink)
        return (result.root, sink.distinctBlocks)
    }

    /// Imports `data` straight into a CAR in memory through `CARBlockSink`.
    static func carFromImport(_ data: [UInt8], _ parameters: ImportParameters = .kuboDefault,
                              format: CARFormat = .v1) throws -> (root: CID, car: [UInt8]) {
        var sink = try CARBlockSink(output: CARMemoryOutput(), format: format,
                                    placeholderRoot: parameters.placeholderRoot)
        let result = try FileImporter(parameters: parameters, threads: 1).importBytes(data, into: &sink)
        try sink.finish(root: result.root)
        return (result.root, sink.writer.output.bytes)
    }

    /// Every verified block of a CAR, in file order.
    static func readAll(_ car: [UInt8], options: CARVerifyOptions = CARVerifyOptions()) throws -> (summary: CARSummary, blocks: [(CID, [UInt8], UInt64)]) {
        var blocks: [(CID, [UInt8], UInt64)] = []
        let summary = try CARVerifier.verify(CARMemorySource(car), options: options) { block in
            blocks.append((block.cid, Array(block.bytes), block.offset))
        }
        return (summary, blocks)
    }

    /// The error `body` throws, as a CARError (nil if it throws nothing or something else).
    static func carError(_ body: () throws -> Void) -> CARError? {
        do {
            try body()
            return nil
        } catch let error as CARError {
            return error
        } catch {
            return nil
        }
    }

    static func verifyError(_ car: [UInt8], _ options: CARVerifyOptions = CARVerifyOptions()) -> CARError? {
        carError { _ = try CARVerifier.verify(CARMemorySource(car), options: options) }
    }

    /// A CIDv1 raw block of `bytes` with sha2-256.
    static func rawCID(_ bytes: [UInt8]) -> CID {
        let digest = HashAlgorithm.sha2_256.hash(bytes)
        return CID.v1(codec: .raw, multihash: try! Multihash(code: .sha2_256, digest: digest.bytes))
    }
}
