/// Content-defined and fixed-size chunking with Kubo-identical cut points.
///
/// The module has three layers:
/// - ``ChunkerSpec``: the `--chunker` string (`size-N`, `rabin…`, `buzhash`, `fastcdc…`), parsed and
///   validated the way Kubo validates it.
/// - Boundary finders (``FixedSizeChunker``, ``RabinChunker``, ``BuzhashChunker``,
///   ``FastCDCChunker``, and the run-time choice ``Chunker``): pure functions from a contiguous
///   window of bytes to the length of the next chunk.
/// - ``ChunkReader``: the streaming driver. It owns one reusable buffer, refills it from a
///   ``ByteSource`` and hands every chunk on as a borrowed slice of that buffer.
///
/// See `spec/chunking.md` for every algorithm's parameters and cut rule.
public enum Chunking {
    /// The largest chunk Kubo accepts: 2 MiB − 256 bytes (`ChunkSizeLimit`, boxo ≥ v0.37).
    public static let kuboChunkSizeLimit = 2_096_896

    /// Kubo's default chunk size (`size-262144`).
    public static let kuboDefaultChunkSize = 262_144
}
