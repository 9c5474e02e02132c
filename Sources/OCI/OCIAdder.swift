public import Engine
public import BlockStore
public import Multiformats
import UnixFS

/// One blob added: its OCI digest and the root of its UnixFS file.
public struct OCIAddedBlob: Hashable, Sendable {
    public var blob: OCIBlob
    public var check: BlobCheck
    public var cid: CID
    /// True if `cid` is the file of the layer's uncompressed tar.
    public var uncompressed: Bool
}

/// `cairn oci add` as a library call (spec/oci.md §5): every blob of a layout (or, with
/// `uncompressed`, the decompressed tar of each layer) becomes one UnixFS file through
/// `Adder.addStreams`, verified while it is read; all or nothing — a layout with any issue
/// stores nothing.
public struct OCIAdder: Sendable {
    public var adder: Adder
    public var uncompressed = false

    public init(adder: Adder) {
        self.adder = adder
    }

    public func add(_ layout: OCILayout, to store: BlockStore, pin: Bool = true, pinName: String? = nil) throws -> [OCIAddedBlob] {
        if let issue = layout.issues.first { throw issue.error }
        var readers: [BlobReader] = []
        var failure: BlobSource.FailureBox?
        let results: [ImportResult]
        do {
            results = try adder.addStreams(count: layout.blobs.count, to: store, pin: pin, pinName: pinName, open: { index in
                let reader = try BlobReader(blob: layout.blobs[index], container: layout.container, output: uncompressed ? .uncompressed : .stored)
                readers.append(reader)
                let source = BlobSource(reader)
                failure = source.failure
                return source
            }, check: { _, _ in
                // The reader's last read returned 0 only after its checks passed.
                guard readers.last?.check != nil else { throw OCIError(.io, "\(layout.path): a blob was not read to its end") }
            })
        } catch {
            if let error = failure?.error { throw error }
            throw error
        }
        return zip(readers, results).map { reader, result in
            OCIAddedBlob(blob: reader.blob, check: reader.check!, cid: result.root,
                         uncompressed: uncompressed && reader.blob.role == .layer)
        }
    }
}
