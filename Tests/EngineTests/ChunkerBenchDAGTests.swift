import Blocks
import CairnTestSupport
import Chunking
@testable import Engine
import Multiformats
import Testing
import UnixFS

/// `cairn bench chunkers` sizes the DAG from chunk lengths alone (``BalancedDAGSize``); the
/// real importer (`add --only-hash`, default layout) is the reference for every figure.
@Suite struct ChunkerBenchDAGTests {
    /// Counts the blocks the importer puts.
    struct CountingSink: BlockSink {
        var blocks = 0
        var wantsBytes: Bool { false }
        mutating func put(_ cid: CID, _ bytes: BlockBytes) { blocks += 1 }
    }

    static func imported(_ bytes: [UInt8], _ spec: ChunkerSpec) throws -> (size: UInt64, blocks: Int) {
        let importer = try FileImporter(parameters: ImportParameters(chunker: spec), threads: 1)
        var sink = CountingSink()
        let result = try importer.importBytes(bytes, into: &sink)
        return (result.size, sink.blocks)
    }

    static func computed(_ bytes: [UInt8], _ spec: ChunkerSpec) -> (size: UInt64, blocks: Int) {
        var dag = BalancedDAGSize(maxLinks: ImportParameters.defaultMaxLinks)
        bytes.withUnsafeBytes { raw in
            for length in spec.makeChunker().chunkLengths(of: raw) { dag.append(chunk: length) }
        }
        let size = dag.finish()
        return (size, dag.blocks)
    }

    /// Every default chunker, on inputs of none, one, a few and many chunks (two levels).
    @Test(arguments: BenchChunker.defaults.map(\.spec) + [try! ChunkerSpec(parsing: "rabin-16384-65536-131072")])
    func sizesEqualTheImportersForEveryChunker(_ spec: ChunkerSpec) throws {
        let random = SplitMix64.bytes(seed: 11, count: 60 << 20)
        for count in [0, 1, 1000, 262_144, 262_145, 5 << 20 + 123, 60 << 20] {
            let bytes = Array(random.prefix(count))
            let expected = try Self.imported(bytes, spec)
            let actual = Self.computed(bytes, spec)
            #expect(actual.size == expected.size, "\(spec) \(count) bytes")
            #expect(actual.blocks == expected.blocks, "\(spec) \(count) bytes")
        }
    }

    /// Node edges of the balanced layout: exactly 174 leaves (one full node), 175 (a second
    /// level), 174² (a full second level) and one more (a third).
    @Test func fullNodesAndExtraLevels() throws {
        let spec = try ChunkerSpec(parsing: "size-1024")
        let random = SplitMix64.bytes(seed: 12, count: (174 * 174 + 1) * 1024)
        for leaves in [2, 173, 174, 175, 174 * 174, 174 * 174 + 1] {
            for extra in [0, -1] {
                let bytes = Array(random.prefix(leaves * 1024 + extra))
                let expected = try Self.imported(bytes, spec)
                let actual = Self.computed(bytes, spec)
                #expect(actual.size == expected.size, "\(leaves) leaves \(extra)")
                #expect(actual.blocks == expected.blocks, "\(leaves) leaves \(extra)")
            }
        }
    }
}
