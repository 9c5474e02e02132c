import Chunking
import Hashing
import Multiformats
import Blocks

import CairnSystem

// The pipeline behind every `FileImporter` entry point: producer → leaf batches → hashing
// stage → assembler → sink (spec/unixfs.md §6).

extension FileImporter {
    func checkCancelled() throws {
        try cancellation.check()
    }

    func run<Producer: ChunkProducer, Sink: BlockSink>(_ producer: inout Producer, into sink: inout Sink,
                                                       metadata: UnixFSMetadata = UnixFSMetadata(),
                                                       mapped: Bool = false) throws -> ImportResult {
        if !metadata.isEmpty && parameters.rawLeaves {
            throw ImportError(.invalidParameters, "a file root with mode or mtime must be dag-pb: turn raw leaves off")
        }
        // The one place the layout is chosen: the rest of the pipeline is specialised for it.
        switch parameters.layout {
        case .balanced:
            return try run(&producer, into: &sink, layout: BalancedLayout.self, metadata: metadata, mapped: mapped)
        case .trickle:
            return try run(&producer, into: &sink, layout: TrickleLayout.self, metadata: metadata, mapped: mapped)
        }
    }

    private func run<Producer: ChunkProducer, Sink: BlockSink, Layout: FileLayoutStrategy>(
        _ producer: inout Producer, into sink: inout Sink, layout: Layout.Type, metadata: UnixFSMetadata, mapped: Bool
    ) throws -> ImportResult {
        let factory = CIDFactory(parameters)
        var assembler = Assembler<Layout>(parameters: parameters, factory: factory)
        assembler.metadata = metadata
        assembler.cancellation = cancellation
        // A serial content-defined chunker keeps this thread busy, so the hashing stage leaves
        // it a core of its own; with fixed-size chunks this thread mostly waits, and a parallel
        // chunker shares every core with the hashing, so hashing takes all.
        var hashThreads = threads
        if !parameters.chunker.isFixedSize && !producer.chunksInParallel && threads > 1 { hashThreads = threads - 1 }
        let hasher = BatchHasher(algorithm: parameters.hashAlgorithm, threads: hashThreads)
        let capacity = max(1, batchLeaves)
        let batches = [LeafBatch(capacity: capacity), LeafBatch(capacity: capacity)]
        let framing = parameters.rawLeaves ? nil : Layout.leafType
        let limits = BatchLimits(
            bytes: mapped && !batchBytesChosen && (parameters.chunker.isFixedSize || producer.chunksInParallel)
                ? max(batchBytes, FileImporter.mappedBatchBytes) : max(1, batchBytes),
            leaves: capacity)

        if threads <= 1 {
            while true {
                try checkCancelled()
                let batch = batches[0]
                try producer.fill(batch, limits: limits, framing: framing)
                if batch.count == 0 { break }
                hasher.hash(batch, cancellation: cancellation)
                try assembler.assemble(batch, into: &sink)
                producer.release(batch)
                progress?(assembler.fileSize)
            }
            return try assembler.finish(into: &sink)
        }

        // Two-stage pipeline: the hashing stage works on batch k while this thread reads and
        // chunks batch k+1, then assembles batch k in order.
        let stage = HashStage(hasher: hasher, cancellation: cancellation)
        // On every exit, errors included, no hashing worker may still read a batch (or read
        // ahead into a buffer) when the producer's memory goes away: drain the stage.
        defer { stage.drain() }
        // Reading ahead runs on the hashing stage's thread between batches, and on this thread
        // whenever it would otherwise wait: two busy threads for two kinds of work, none of them
        // preempting the chunker.
        let background = producer.backgroundTask
        if let background { stage.enqueue(background) }
        var inFlight: LeafBatch? = nil
        var index = 0
        while true {
            try checkCancelled()
            let batch = batches[index & 1]
            try producer.fill(batch, limits: limits, framing: framing)
            if batch.count > 0 { stage.start(batch) }
            if let previous = inFlight {
                inFlight = nil
                // While the hashing stage is behind, this thread takes over work the producer
                // would otherwise do in the background (reading ahead).
                while !stage.poll() && producer.workAhead() {}
                stage.wait()
                try assembler.assemble(previous, into: &sink)
                producer.release(previous)
                if let background { stage.enqueue(background) }
                progress?(assembler.fileSize)
            }
            if batch.count == 0 { break }
            inFlight = batch
            index += 1
        }
        return try assembler.finish(into: &sink)
    }
}

extension ChunkerSpec {
    var isFixedSize: Bool {
        if case .fixed = self { return true }
        return false
    }
}
