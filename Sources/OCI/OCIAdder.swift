public import Engine
public import BlockStore
public import Multiformats
import UnixFS
import Foundation

/// One blob added: its OCI digest and the root of its UnixFS file.
public struct OCIAddedBlob: Hashable, Sendable {
    public var blob: OCIBlob
    public var check: BlobCheck
    public var cid: CID
    /// The cumulative size of the file's DAG (a directory link's `Tsize`).
    public var tsize: UInt64
    /// True if `cid` is the file of the layer's uncompressed tar.
    public var uncompressed: Bool
}

/// `cairn oci add` as a library call (spec/oci.md §5): every blob of a layout (or, with
/// `uncompressed`, the decompressed tar of each layer) becomes one UnixFS file through
/// `Adder.addEach` (mapped and read in place by `MappedBlobImport`), verified while it is
/// read; all or nothing — a layout with any issue stores nothing.
public struct OCIAdder: Sendable {
    public var adder: Adder
    public var uncompressed = false
    /// Whether each layer added as stored is also decompressed and its diff_id and tar checked
    /// (spec/oci.md §3, §5); false digests it like any other blob (`--verify-diff-ids=false`).
    /// A layer added `uncompressed` is always checked.
    public var verifyDiffIDs = true
    /// Tar and decompression limits (spec/oci.md §3, §4).
    public var limits = TarLimits()

    /// How many blobs are checked at the same time (`CheckAhead`): the processors, at most 2.
    static let checkedAtOnce = max(1, min(2, ProcessInfo.processInfo.activeProcessorCount))

    public init(adder: Adder) {
        self.adder = adder
    }

    public func add(_ layout: OCILayout, to store: BlockStore, pin: Bool = true, pinName: String? = nil) throws -> [OCIAddedBlob] {
        try add(layout, to: store, pin: pin, pinName: pinName, finish: nil)
    }

    /// `oci add`, then the IPFS-enabled copy of the layout (spec/oci.md §7) built over the
    /// blobs' files in the same transaction; only its root is pinned (under `pinName`).
    public func publish(_ layout: OCILayout, to store: BlockStore, pinName: String? = nil) throws -> IPFSLayout {
        guard layout.format != .dockerArchive || layout.container.contains("index.json") else {
            throw OCIError(.invalidLayout, "\(layout.path): a docker-archive without an OCI layout cannot be published; convert it first (skopeo copy docker-archive:… oci:…)")
        }
        var published: IPFSLayout?
        var blobs: [OCIAddedBlob] = []
        blobs = try add(layout, to: store, pin: true, pinName: pinName) { sink, added in
            var builder = IPFSLayoutBuilder(layout: layout, blobs: added, parameters: adder.parameters, threads: adder.threads)
            let result = try builder.build(into: &sink)
            published = result
            return [result.root]
        }
        guard var published else { throw OCIError(.io, "\(layout.path): the IPFS-enabled layout was not built") }
        published.blobs = blobs
        return published
    }

    private func add(_ layout: OCILayout, to store: BlockStore, pin: Bool, pinName: String?,
                     finish: ((inout AddStoreSink, [OCIAddedBlob]) throws -> [CID])?) throws -> [OCIAddedBlob] {
        if let issue = layout.issues.first { throw issue.error }
        // The blob under way, and each one done (its reader let go: it holds buffers and a
        // decompressor, and a layout may have hundreds of blobs).
        var current: BlobReader?
        var checks: [(blob: OCIBlob, check: BlobCheck)] = []
        var failure: BlobSource.FailureBox?
        let uncompressed = self.uncompressed, limits = self.limits, verifyDiffIDs = self.verifyDiffIDs
        func added(_ results: [ImportResult]) -> [OCIAddedBlob] {
            zip(checks, results).map { done, result in
                OCIAddedBlob(blob: done.blob, check: done.check, cid: result.root, tsize: result.size,
                             uncompressed: uncompressed && done.blob.role == .layer)
            }
        }
        // Blobs added as stored whose checks are more than a digest (layers decompressed for
        // their diff_id) are checked ahead of the import, two at a time (`CheckAhead`); the
        // importer, beside them, hashes on one thread fewer. Blobs only digested keep the one
        // pass of `MappedBlobImport.importBlob` (measured faster for them).
        func open(_ index: Int, _ output: BlobReader.Output) throws -> BlobReader {
            try BlobReader(blob: layout.blobs[index], container: layout.container, output: output, limits: limits, checkLayer: verifyDiffIDs)
        }
        let ahead = uncompressed ? nil : CheckAhead(count: layout.blobs.count, concurrent: Self.checkedAtOnce) { try open($0, .stored) }
        defer { ahead?.stop() }
        // Streams `reader` through the importer with its checks inline (a blob not mapped).
        func stream(_ reader: BlobReader, _ importer: FileImporter, _ sink: inout AddStoreSink) throws -> ImportResult {
            current = reader
            let source = BlobSource(reader)
            failure = source.failure
            return try importer.importStream(source, into: &sink)
        }
        let results: [ImportResult]
        do {
            results = try adder.addEach(to: store, pin: pin, pinName: pinName, next: { index, importer, sink in
                guard index < layout.blobs.count else { return nil }
                if let ahead {
                    let (reader, region) = try ahead.region(index)
                    guard let region else {
                        current = reader
                        if let result = try MappedBlobImport.importBlob(reader, importer: importer, into: &sink) { return result }
                        return try stream(reader, importer, &sink)
                    }
                    let imported = try MappedBlobImport.importUnchecked(region, name: reader.name, importer: importer.beside(busyThreads: 1), into: &sink)
                    current = try ahead.checked(index)
                    if let imported { return imported }
                    // Not mappable (an empty blob): streamed, through a reader of its own.
                    return try stream(try open(index, .stored), importer, &sink)
                }
                let reader = try open(index, uncompressed ? .uncompressed : .stored)
                current = reader
                if !reader.outputsUncompressed, let result = try MappedBlobImport.importBlob(reader, importer: importer, into: &sink) {
                    return result
                }
                return try stream(reader, importer, &sink)
            }, check: { _, _ in
                // The reader's last read returned 0 only after its checks passed.
                guard let reader = current, let check = reader.check else { throw OCIError(.io, "\(layout.path): a blob was not read to its end") }
                checks.append((reader.blob, check))
                current = nil
            }, finish: finish.map { finish in { sink, results in try finish(&sink, added(results)) } })
        } catch {
            if let error = failure?.error { throw error }
            throw error
        }
        return added(results)
    }
}
