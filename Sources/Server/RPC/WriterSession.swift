import BlockStore
import CAR
import Chunking
import Foundation
import NIOCore

/// A store writer held across the awaits of one upload (the writer is not thread-safe; the
/// session hands it to one pool job at a time). Holds the one-writer gate from `open` to
/// `close`/`abandon`: nothing of the upload is visible until `close`, which commits durably.
final class WriterSession: @unchecked Sendable {
    private let state: ServerState
    private let writer: BlockStoreWriter
    private var done = false

    private init(state: ServerState, writer: BlockStoreWriter) {
        self.state = state
        self.writer = writer
    }

    /// Runs `body` with an open session; commits (durably) if it returns, abandons if it throws.
    static func with<T: Sendable>(
        _ state: ServerState, oneCommit: Bool = false, _ body: (WriterSession) async throws -> T
    ) async throws -> T {
        await state.writeGate.acquire()
        let session: WriterSession
        do {
            let writer = try await state.pool.run { try UncheckedBox(state.store.writer()) }.value
            if oneCommit {
                writer.commitsOnlyWhenAsked = true
            }
            session = WriterSession(state: state, writer: writer)
        } catch {
            await state.writeGate.release()
            throw error
        }
        do {
            let result = try await body(session)
            try Task.checkCancellation()  // a request past its `timeout` commits nothing
            try await session.run { writer in try writer.close() }
            session.done = true
            await state.writeGate.release()
            return result
        } catch {
            if !session.done { try? await session.run { writer in writer.abandon() } }
            await state.writeGate.release()
            throw error
        }
    }

    /// Runs one step with the writer on the pool.
    func run<T: Sendable>(_ step: @escaping @Sendable (BlockStoreWriter) throws -> T) async throws -> T {
        let box = UncheckedBox(writer)
        return try await state.pool.run { try step(box.value) }
    }
}

/// Carries a non-Sendable value across one hand-over (a writer used by one job at a time).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// The receiving end of a pipe fed by a request body, read into caller buffers (the CAR
/// reader's and the importer's sources).
struct PipeReader {
    let pipe: BytePipe
    private var current = ByteBuffer()

    init(pipe: BytePipe) { self.pipe = pipe }

    /// Copies up to `buffer.count` bytes; 0 at the end of the upload.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while current.readableBytes == 0 {
            guard let next = try pipe.receiveBlocking() else { return 0 }
            current = next
        }
        let count = min(buffer.count, current.readableBytes)
        current.withUnsafeReadableBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: count)
        }
        current.moveReaderIndex(forwardBy: count)
        return count
    }
}

/// A CAR source reading from a pipe fed by a request body.
final class PipeCARSource: CARSource {
    private var reader: PipeReader

    init(pipe: BytePipe) { reader = PipeReader(pipe: pipe) }

    var size: UInt64? { nil }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(CARError) -> Int {
        do { return try reader.read(into: buffer) } catch {
            throw CARError(.io, "the upload failed: \(RPCError.from(error).message)")
        }
    }
}

/// A file's bytes for the importer, from a pipe fed by one multipart part (`add`). A failed
/// upload reads as an I/O error; the request reports the upload's own error.
struct PipeByteSource: ByteSource, @unchecked Sendable {
    private var reader: PipeReader

    init(pipe: BytePipe) { reader = PipeReader(pipe: pipe) }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ChunkingError) -> Int {
        do { return try reader.read(into: buffer) } catch { throw ChunkingError.readFailed(errno: EIO) }
    }
}
