import Blocks

/// Hands out chunks in batches. Chunk bytes stay valid until `release` of their batch.
protocol ChunkProducer {
    /// Resets `batch` and fills it with the next chunks; an empty batch means the input ended.
    mutating func fill(_ batch: LeafBatch, limits: BatchLimits, framing: UnixFSType?) throws
    /// The batch has been delivered; its bytes are no longer needed.
    mutating func release(_ batch: LeafBatch)
    /// Does one piece of the producer's background work (a read ahead) on the calling thread,
    /// if there is one to do right now; returns whether it did.
    mutating func workAhead() -> Bool
    /// Background work (reading ahead) to run on the hashing stage's thread, between batches.
    var backgroundTask: (@Sendable () -> Void)? { get }
    /// Whether `fill` cuts on every thread itself (the parallel chunker): hashing then takes
    /// every thread too, and the two share the cores.
    var chunksInParallel: Bool { get }
}

extension ChunkProducer {
    mutating func workAhead() -> Bool { false }
    var backgroundTask: (@Sendable () -> Void)? { nil }
    var chunksInParallel: Bool { false }
}
