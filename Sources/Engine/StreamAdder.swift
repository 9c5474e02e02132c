public import BlockStore
public import Chunking
public import UnixFS
public import Multiformats

extension Adder {
    /// Adds `count` byte streams, each as one UnixFS file, into `store`, all or nothing
    /// (spec/engine.md §4): every block goes through one writer that commits only when asked;
    /// `check` sees each stream's result as soon as it is imported (it throws to refuse it);
    /// after the last stream one transaction makes every block durable and pins every root
    /// (unless `pin` is false) under `pinName`. With `finish`, after the last stream, more
    /// blocks may be written through the same sink (say, a directory over the files); the roots
    /// it returns are pinned instead of the streams'. An error from `open`, a source or `check`
    /// abandons the writer: nothing of this call is stored.
    public func addStreams<Source: ByteSource & Sendable>(
        count: Int, to store: BlockStore, pin: Bool = true, pinName: String? = nil,
        open: (Int) throws -> Source, check: (Int, ImportResult) throws -> Void,
        finish: ((inout AddStoreSink, [ImportResult]) throws -> [CID])? = nil
    ) throws -> [ImportResult] {
        try addStreams(to: store, pin: pin, pinName: pinName, next: { index in index < count ? try open(index) : nil },
                       check: check, finish: finish)
    }

    /// The same, for streams that come one by one until `next` returns nil (an upload whose
    /// number of files is known only at its end).
    public func addStreams<Source: ByteSource & Sendable>(
        to store: BlockStore, pin: Bool = true, pinName: String? = nil,
        next: (Int) throws -> Source?, check: (Int, ImportResult) throws -> Void,
        finish: ((inout AddStoreSink, [ImportResult]) throws -> [CID])? = nil
    ) throws -> [ImportResult] {
        try addEach(to: store, pin: pin, pinName: pinName, next: { index, importer, sink in
            guard let source = try next(index) else { return nil }
            return try importer.importStream(source, into: &sink)
        }, check: check, finish: finish)
    }

    /// The same, for files imported by the caller: `next` imports the file of index `index`
    /// with `importer` into `sink` (as a stream, or as bytes it maps itself), or returns nil
    /// after the last one.
    public func addEach(
        to store: BlockStore, pin: Bool = true, pinName: String? = nil,
        next: (Int, FileImporter, inout AddStoreSink) throws -> ImportResult?, check: (Int, ImportResult) throws -> Void,
        finish: ((inout AddStoreSink, [ImportResult]) throws -> [CID])? = nil
    ) throws -> [ImportResult] {
        let importer = try FileImporter(parameters: parameters, threads: threads)
        let writer = try store.writer()
        defer { writer.abandon() }
        writer.commitsOnlyWhenAsked = true
        var sink = AddStoreSink(writer: writer)
        var results: [ImportResult] = []
        while let result = try next(results.count, importer, &sink) {
            try check(results.count, result)
            results.append(result)
        }
        let roots = try finish?(&sink, results) ?? results.map(\.root)
        if pin {
            try writer.commit(pinningAll: roots, recursive: true, name: pinName)
        } else {
            try writer.commit()
        }
        try writer.close()
        return results
    }
}
