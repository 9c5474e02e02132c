public import Chunking
public import BlockStore
public import UnixFS
import Multiformats
import Blocks
import Hashing

/// One line of the dedup report: a layer of an image, cut by one chunker, as stored or
/// uncompressed.
public struct OCIDedupRow: Hashable, Sendable {
    /// The argument's position (0-based) and path.
    public var argument: Int
    public var layout: String
    public var image: String
    public var blob: String
    public var chunker: ChunkerSpec
    public var uncompressed: Bool
    /// Bytes of the stream imported (the blob, or its tar).
    public var contentBytes: Int64
    /// Every block of its DAG (leaves and internal nodes) and their bytes.
    public var blocks = 0
    public var bytes: Int64 = 0
    /// Blocks met for the first time: in no earlier layer, argument or place of this layer, and
    /// not in the store.
    public var newBlocks = 0
    public var newBytes: Int64 = 0

    public var presentBlocks: Int { blocks - newBlocks }
    public var presentBytes: Int64 { bytes - newBytes }
    /// The share of this layer's bytes already present, in percent.
    public var sharedPercent: Double { bytes == 0 ? 0 : Double(presentBytes) * 100 / Double(bytes) }
}

/// `cairn oci dedup` (spec/oci.md §6): what each layer of each layout would add, block by
/// block, for each chunker, given the layers before it and the store. Only CIDs are computed
/// (`--only-hash`): nothing is written. Every blob read is verified as `oci verify` does.
public struct OCIDedup: Sendable {
    public var chunkers: [ChunkerSpec]
    public var uncompressed = false
    /// The import settings besides the chunker (Kubo's defaults unless set).
    public var parameters = ImportParameters.kuboDefault
    public var threads: Int?
    /// Blocks already here count as present.
    public var store: BlockStore?

    public init(chunkers: [ChunkerSpec]) {
        self.chunkers = chunkers
    }

    /// Reports one row per layer, chunker and form, in argument, image and layer order.
    public func run(_ layouts: [OCILayout], row report: (OCIDedupRow) throws -> Void) throws {
        let forms = uncompressed ? [false, true] : [false]
        var seen: [Int: Set<CID>] = [:]  // per chunker and form
        for layout in layouts {
            if let issue = layout.issues.first { throw issue.error }
        }
        for (argument, layout) in layouts.enumerated() {
            for image in layout.images {
                for position in image.layers {
                    let blob = layout.blobs[position]
                    for (chunkerIndex, chunker) in chunkers.enumerated() {
                        for form in forms {
                            var parameters = self.parameters
                            parameters.chunker = chunker
                            let blocks = try importBlocks(blob, of: layout, parameters: parameters, uncompressed: form)
                            var row = OCIDedupRow(argument: argument, layout: layout.path, image: image.name, blob: blob.label,
                                                  chunker: chunker, uncompressed: form, contentBytes: blocks.contentBytes)
                            let key = chunkerIndex * 2 + (form ? 1 : 0)
                            var known = seen[key] ?? []
                            let fresh = blocks.cids.indices.filter { !known.contains(blocks.cids[$0]) }
                            let stored = try store?.hasMany(fresh.map { blocks.cids[$0] }) ?? fresh.map { _ in false }
                            var isNew = Set<Int>()
                            for (index, present) in zip(fresh, stored) where !present { isNew.insert(index) }
                            for (index, cid) in blocks.cids.enumerated() {
                                row.blocks += 1
                                row.bytes += Int64(blocks.sizes[index])
                                if isNew.contains(index) && known.insert(cid).inserted {
                                    row.newBlocks += 1
                                    row.newBytes += Int64(blocks.sizes[index])
                                }
                            }
                            seen[key] = known
                            try report(row)
                        }
                    }
                }
            }
        }
    }

    private struct LayerBlocks {
        var cids: [CID] = []
        var sizes: [Int] = []
        var contentBytes: Int64 = 0
    }

    /// Every block of the blob's DAG, in the importer's order (repeats included).
    private func importBlocks(_ blob: OCIBlob, of layout: OCILayout, parameters: ImportParameters, uncompressed: Bool) throws -> LayerBlocks {
        struct CollectingSink: BlockSink {
            var blocks = LayerBlocks()
            var wantsBytes: Bool { false }
            mutating func put(_ cid: CID, _ bytes: BlockBytes) {
                blocks.cids.append(cid)
                blocks.sizes.append(bytes.count)
            }
        }
        let reader = try BlobReader(blob: blob, container: layout.container, output: uncompressed ? .uncompressed : .stored)
        let source = BlobSource(reader)
        var sink = CollectingSink()
        let importer = try FileImporter(parameters: parameters, threads: threads)
        let result: ImportResult
        do {
            result = try importer.importStream(source, into: &sink)
        } catch {
            if let failure = source.failure.error { throw failure }
            throw error
        }
        guard reader.check != nil else { throw OCIError(.io, "\(layout.path): \(blob.label) was not read to its end") }
        sink.blocks.contentBytes = Int64(result.fileSize)
        return sink.blocks
    }
}
