import Testing
import Foundation
import NIOCore
import Synchronization
@testable import Server

/// The multipart reader hands on slices of the buffers a body arrives in (spec/serve.md §3):
/// whatever the cuts between buffers, in particular through a boundary, every part's bytes
/// come out exactly as they were sent (RFC 2046 §5.1: the body ends at CRLF "--" boundary).
@Suite struct MultipartReaderTests {
    /// A body delivered in the given buffers.
    struct Pieces: AsyncSequence, Sendable {
        let buffers: [ByteBuffer]
        struct AsyncIterator: AsyncIteratorProtocol {
            var rest: ArraySlice<ByteBuffer>
            mutating func next() async throws -> ByteBuffer? { rest.popFirst() }
        }
        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(rest: buffers[...]) }
    }

    static let boundary = "XyZboundary42"

    /// Two parts whose bytes hold near-misses of the delimiter (CR LF "-" "-" and boundary
    /// prefixes), the second empty-line-free, framed as RFC 7578 says.
    static func body(_ first: [UInt8], _ second: [UInt8]) -> [UInt8] {
        var body = Array("preamble\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n".utf8)
        body += first
        body += Array("\r\n--\(boundary)\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        body += second
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        return body
    }

    static func read(_ body: [UInt8], cuts: [Int]) async throws -> [[UInt8]] {
        var buffers: [ByteBuffer] = []
        var start = 0
        for cut in cuts.sorted() + [body.count] where cut > start && cut <= body.count {
            buffers.append(ByteBuffer(bytes: body[start..<cut]))
            start = cut
        }
        var reader = try MultipartReader(body: Pieces(buffers: buffers),
                                         contentType: "multipart/form-data; boundary=\(boundary)", maxBytes: 1 << 30)
        var parts: [[UInt8]] = []
        while try await reader.nextPart() != nil {
            var bytes: [UInt8] = []
            while let chunk = try await reader.nextChunk() { bytes += chunk.readableBytesView }
            parts.append(bytes)
        }
        return parts
    }

    @Test func partsSurviveEveryCutNearTheBoundary() async throws {
        var generator = SystemRandomNumberGenerator()
        var first = (0..<3000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        // Near-misses of the delimiter inside the data.
        let near = Array("\r\n--\(Self.boundary)".utf8)
        first.replaceSubrange(100..<100 + near.count - 1, with: near.dropLast())
        first.replaceSubrange(1000..<1004, with: [13, 10, 45, 45])
        let second = Array("\r\n-\r\n--XyZ".utf8) + (0..<500).map { UInt8(truncatingIfNeeded: $0) }
        let body = Self.body(first, second)
        let end = body.count - second.count - 40
        // One cut at each place around the first part's end and at the near-misses, and
        // pairs of cuts a few bytes apart around it (a buffer smaller than the delimiter).
        let firstEnd = body.count - second.count - Array("\r\n--\(Self.boundary)--\r\n".utf8).count
            - Array("\r\n--\(Self.boundary)\r\nContent-Type: application/octet-stream\r\n\r\n".utf8).count
        var plans: [[Int]] = [[]]
        for cut in (firstEnd - 30)...(firstEnd + 30) {
            plans.append([cut])
            plans.append([cut, cut + 3])
            plans.append([cut, cut + 17])
        }
        for cut in stride(from: 60, to: 160, by: 1) { plans.append([cut + 20]) }
        plans.append(Array(stride(from: 1, to: body.count, by: 1)))  // one byte at a time
        plans.append(Array(stride(from: 7, to: end, by: 7)))
        for plan in plans {
            let parts = try await Self.read(body, cuts: plan)
            #expect(parts == [first, second], "cuts \(plan.prefix(4))")
        }
    }

    @Test func aBodyWithoutItsClosingBoundaryIsRefused() async throws {
        var body = Self.body(Array("hello".utf8), Array("world".utf8))
        body.removeLast(8)
        await #expect(throws: RPCError.self) { _ = try await Self.read(body, cuts: [40, 90]) }
    }
}

/// A streamed RPC answer whose body never runs (the client went away before its head could
/// be written) must still end its producer, which otherwise waits on a full pipe for good,
/// holding its turn of `--max-streams` and a pool thread (spec/serve.md §4).
@Suite struct PipeReleaseTests {
    @Test func lettingGoOfTheBodyEndsTheProducer() throws {
        let pipe = BytePipe(capacity: 1024)
        let ended = DispatchSemaphore(value: 0)
        let outcome = Mutex<String>("running")
        let producer = Thread {
            do {
                while true { try pipe.sendBlocking(ByteBuffer(bytes: [UInt8](repeating: 7, count: 512))) }
            } catch {
                outcome.withLock { $0 = "ended: \(type(of: error))" }
            }
            ended.signal()
        }
        producer.start()
        var release: PipeRelease? = PipeRelease(pipe)
        _ = release
        #expect(ended.wait(timeout: .now() + 0.3) == .timedOut)  // blocked on the full pipe
        release = nil  // the body, never run, is let go of
        #expect(ended.wait(timeout: .now() + 30) == .success, "the producer still waits on the full pipe")
        #expect(outcome.withLock { $0 } == "ended: CancellationError")
    }
}
