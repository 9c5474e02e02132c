import AsyncHTTPClient
import Foundation
import Blocks
import BlockStore
import CAR
import CairnSystem
import Engine
import Hashing
import Multiformats
import NIOCore

/// A multipart body holding one CARv1 of the blocks `cids`, produced as it is sent
/// (spec/remote.md §3.3): each `next()` fills about 1 MiB, so neither a temporary file nor the
/// whole layer ever exists, in memory or resident. From a `BlockStore` the blocks go in pack
/// order (their locations looked up in one read transaction), each read with one `pread`
/// straight into the piece's buffer and verified there; the few buffers of the pieces are
/// reused once the connection has written them. Its length is known beforehand (block sizes
/// from the store's index), so it goes with a `Content-Length`, not chunked.
struct CARUpload<Getter: BlockGetter>: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    /// How many blocks the body holds (their CIDs, sizes and places are the lease's `Plan`).
    let count: Int
    let root: CID
    /// The getter and the pieces' buffers, until the request has ended (`end()`).
    let lease: Lease
    let boundary: String
    /// The bytes of the blocks (sizes from the store's index).
    let blockBytes: UInt64
    /// The bytes of the whole body: multipart head, CAR, multipart tail.
    let length: Int
    /// Whether the whole body is one piece (about `uploadChunkBytes` or less): then it is made
    /// before the request and sent as one buffer (`body()`).
    private(set) var isOnePiece = false

    init(cids: CIDList, root: CID, blocks: Getter) throws {
        self.root = root
        boundary = makeBoundary()
        let plan: Plan
        if let store = blocks as? BlockStore {
            // Each block's place in the list and where it lies, looked up 4096 at a time (one
            // read transaction each), then put in pack order: sequential reads (a CAR's blocks
            // may come in any order, dag/import stores them all before anything is pinned).
            var placed: [(location: BlockLocation, place: UInt32)] = []
            placed.reserveCapacity(cids.count)
            var start = 0
            while start < cids.count {
                let batch = Array(cids[start..<Swift.min(start + 4096, cids.count)])
                for (offset, location) in try store.locations(of: batch).enumerated() {
                    guard let location else { throw RemoteError(.usage, "block \(batch[offset]) is not in the local store") }
                    placed.append((location, UInt32(start + offset)))
                }
                start += batch.count
            }
            placed.sort { a, b in
                a.location.pack != b.location.pack ? a.location.pack < b.location.pack : a.location.offset < b.location.offset
            }
            plan = Plan(cids: cids, order: placed.map(\.place), sizes: placed.map(\.location.length),
                        locations: placed.map(\.location))
        } else {
            plan = Plan(cids: cids, order: nil, sizes: try blockSizes(of: Array(cids), in: blocks), locations: nil)
        }
        count = plan.count
        blockBytes = plan.sizes.reduce(0) { $0 + UInt64($1) }
        length = Self.prefix(boundary).utf8.count + Self.carLength(root: root, plan: plan) + Self.suffix(boundary).utf8.count
        lease = Lease(blocks, plan)
        isOnePiece = piece(from: 0, in: plan).end == count
    }

    /// The blocks of the body in the order sent: CIDs (a compact list, and the order to send
    /// them in), sizes and, from a `BlockStore`, where each lies. Held by the lease only, so
    /// that it goes with the getter when the request ends.
    final class Plan: Sendable {
        private let cids: CIDList
        /// The places in `cids` in the order sent (nil: as listed).
        private let order: [UInt32]?
        /// In the order sent, as are `locations`.
        let sizes: [Int]
        let locations: [BlockLocation]?

        init(cids: CIDList, order: [UInt32]?, sizes: [Int], locations: [BlockLocation]?) {
            self.cids = cids
            self.order = order
            self.sizes = sizes
            self.locations = locations
        }

        var count: Int { cids.count }

        private func place(_ index: Int) -> Int { order.map { Int($0[index]) } ?? index }

        /// The CID of the `index`-th block sent.
        func cid(_ index: Int) -> CID { cids[place(index)] }

        /// The bytes of the `index`-th block's CAR section: `varint(len(cid) + len(data)) cid data`.
        func sectionLength(_ index: Int) -> Int {
            let section = cids.encodedLength(at: place(index)) + sizes[index]
            return Varint.encodedLength(UInt64(section)) + section
        }
    }

    /// The length of the CARv1 of the plan's blocks: the framed header, then each block's
    /// section (ipld/go-car, the CARv1 spec).
    static func carLength(root: CID, plan: Plan) -> Int {
        (0..<plan.count).reduce(CARv1Header(roots: [root]).framed.count) { $0 + plan.sectionLength($1) }
    }

    /// The bytes of the piece of the body that starts with block `start` (with the multipart
    /// head and CAR header first, the multipart tail last): blocks are added until about
    /// `uploadChunkBytes`; returns its length and the block after it.
    func piece(from start: Int, in plan: Plan) -> (bytes: Int, end: Int) {
        var bytes = start == 0 ? Self.prefix(boundary).utf8.count + CARv1Header(roots: [root]).framed.count : 0
        var end = start
        while bytes < uploadChunkBytes, end < count {
            bytes += plan.sectionLength(end)
            end += 1
        }
        if end == count { bytes += Self.suffix(boundary).utf8.count }
        return (bytes, end)
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// What an upload holds while its body is produced: the block getter (a store, with its
    /// index connections), the plan of its blocks, the pieces' verifier and their buffers. Let
    /// go of by `end()` once the request has ended, however it ended.
    ///
    /// AsyncHTTPClient (1.37) strands the task that iterates a streamed request body when an
    /// answer of status 300 or more comes before the whole body was handed to it: the
    /// connection pauses the body for good at that answer's head (its `HTTPRequestStateMachine`
    /// sends nothing more after a status >= 300), closes at its end and drops the request, and
    /// the `Transaction` then only records that the answer ended; the body task, waiting in
    /// `writeRequestBodyPart` for demand (or arriving there with its next piece), is never
    /// resumed or failed. No public API reaches that `Transaction` once `execute` has returned.
    /// So a body of one piece, which every refused upload of the tests has, is not streamed at
    /// all (`body()`); a longer one that is refused mid-way still strands that task, with
    /// AsyncHTTPClient's `Transaction` and the closed channel's objects, the piece it was
    /// sending and its iterator, which holds nothing else of the upload: everything else is
    /// here and goes with `end()`.
    final class Lease: @unchecked Sendable {
        private let lock = NSLock()
        private var getter: Getter?
        private var plan: Plan?
        private var check: PieceCheck?
        /// The pieces' buffers, in turn.
        let ring = BufferRing<ByteBuffer>(slots: uploadRingBuffers)

        init(_ getter: Getter, _ plan: Plan) {
            self.getter = getter
            self.plan = plan
            self.check = PieceCheck()
        }

        /// The getter, the plan and the pieces' verifier, or nil once the upload has ended.
        var current: (getter: Getter, plan: Plan, check: PieceCheck)? {
            lock.withLock {
                guard let getter, let plan, let check else { return nil }
                return (getter, plan, check)
            }
        }

        func end() {
            lock.withLock {
                getter = nil
                plan = nil
                check = nil
            }
            ring.release()
        }
    }

    /// The blocks of the piece under way read from the store unverified, where each lies in the
    /// piece's buffer, and the verifier that checks them together before the piece is handed
    /// out (`BlockVerifier`: the multi-buffer kernels on every core; one block at a time through
    /// OpenSSL, the client's hashing took as much CPU as the server's and slowed the push on 2
    /// cores). Used by the one task producing the body, a piece at a time.
    final class PieceCheck: @unchecked Sendable {
        var unverified: [(cid: CID, offset: Int, length: Int)] = []
        var verifier = BlockVerifier()
    }

    /// Lets go of the getter and the buffers (call when the request has ended); a body still
    /// being iterated then fails with `CancellationError`.
    func end() { lease.end() }

    /// The request body, with its content type: streamed with its length, or for a body of
    /// one piece that piece, made now (read and verified as when streamed) and sent as one
    /// buffer, so that no task iterates it (see `Lease`).
    func body() throws -> (HTTPClientRequest.Body, String) {
        guard isOnePiece else { return (.stream(self, length: .known(Int64(length))), contentType) }
        var iterator = makeAsyncIterator()
        guard let piece = try iterator.nextPiece(), iterator.finished else {
            throw RemoteError(.usage, "the upload's body is not the one piece that was counted")
        }
        return (.bytes(piece), contentType)
    }

    static func prefix(_ boundary: String) -> String {
        "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload.car\"\r\nContent-Type: application/vnd.ipld.car\r\n\r\n"
    }

    static func suffix(_ boundary: String) -> String { "\r\n--\(boundary)--\r\n" }

    func makeAsyncIterator() -> Iterator { Iterator(upload: self) }

    /// Holds the upload's lease and where it is, nothing else (see `Lease`).
    struct Iterator: AsyncIteratorProtocol {
        let upload: CARUpload
        var position = 0
        var finished = false

        init(upload: CARUpload) {
            self.upload = upload
        }

        mutating func next() async throws -> ByteBuffer? {
            guard !finished else { return nil }
            try Task.checkCancellation()
            return try nextPiece()
        }

        /// The next piece of the body, read and verified, or nil after the last.
        mutating func nextPiece() throws -> ByteBuffer? {
            guard !finished else { return nil }
            guard let (blocks, plan, check) = upload.lease.current else { throw CancellationError() }  // the request has ended
            let store = blocks as? BlockStore  // once a piece, not once a block
            let (size, end) = upload.piece(from: position, in: plan)
            var (slot, buffer) = upload.lease.ring.take(reusing: { $0.clear(minimumCapacity: size) }) {
                ByteBufferAllocator().buffer(capacity: Swift.max(size, uploadChunkBytes + uploadChunkBytes / 4))
            }
            if position == 0 {
                buffer.writeString(CARUpload.prefix(upload.boundary))
                buffer.writeBytes(CARv1Header(roots: [upload.root]).framed)
            }
            check.unverified.removeAll(keepingCapacity: true)
            while position < end {
                try put(position, from: blocks, plan: plan, store: store, check: check, into: &buffer)
                position += 1
            }
            try buffer.withUnsafeReadableBytes { try check.verifier.verify(check.unverified, in: $0) }
            if position == upload.count {
                buffer.writeString(CARUpload.suffix(upload.boundary))
                finished = true
            }
            guard buffer.readableBytes == size else {
                throw RemoteError(.usage, "the upload's piece has \(buffer.readableBytes) bytes where \(size) were counted")
            }
            upload.lease.ring.keep(buffer, in: slot)
            return buffer
        }

        /// Appends block `index`'s CAR section: read from the store unverified (checked with
        /// the rest of the piece, `BlockVerifier.verify(_:in:)`), or through `block(_:verified:)` verified.
        func put(_ index: Int, from blocks: Getter, plan: Plan, store: BlockStore?, check: PieceCheck, into buffer: inout ByteBuffer) throws {
            let cid = plan.cid(index), size = plan.sizes[index]  // decoded once: the read needs it too
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Varint.maxLength + cid.encodedLength) { raw in
                let n = Varint.encode(UInt64(cid.encodedLength + size), to: raw)
                return n + cid.encode(to: UnsafeMutableRawBufferPointer(rebasing: raw[n...]))
            }
            if let store, let locations = plan.locations {
                try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
                    try store.read(cid, at: locations[index], into: raw, verify: false)
                    return size
                }
                check.unverified.append((cid, buffer.writerIndex - buffer.readerIndex - size, size))
                return
            }
            guard let bytes = try blocks.block(cid, verified: true) else {
                throw RemoteError(.usage, "block \(cid) is not in the local store")
            }
            guard bytes.count == size else {
                throw RemoteError(.usage, "block \(cid) has \(bytes.count) bytes; the store's index says \(size)")
            }
            buffer.writeBytes(bytes)
        }
    }
}

/// About how many bytes each piece of an upload's body holds…
let uploadChunkBytes = 1 << 20
/// …and how many pieces' buffers an upload cycles through.
let uploadRingBuffers = 4

/// A random multipart boundary.
func makeBoundary() -> String {
    "cairn-" + (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 36) }.joined()
}
