import AsyncHTTPClient
import Blocks
import CAR
import Engine
import Multiformats
import NIOCore

/// A multipart body holding one CARv1 of the blocks `cids`, produced as it is sent
/// (spec/remote.md §3.3): each `next()` reads blocks from the local store until about 1 MiB is
/// ready, so neither a temporary file nor the whole layer ever exists, in memory or resident.
/// Its length is known beforehand (block sizes from the store's index), so it goes with a
/// `Content-Length`, not chunked.
struct CARUpload<Getter: BlockGetter>: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let cids: [CID]
    let sizes: [Int]
    let root: CID
    let blocks: Getter
    let boundary: String
    /// The bytes of the blocks (sizes from the store's index).
    let blockBytes: UInt64
    /// The bytes of the whole body: multipart head, CAR, multipart tail.
    let length: Int

    init(cids: [CID], root: CID, blocks: Getter) throws {
        self.cids = cids
        self.root = root
        self.blocks = blocks
        boundary = makeBoundary()
        sizes = try blockSizes(of: cids, in: blocks)
        blockBytes = sizes.reduce(0) { $0 + UInt64($1) }
        length = Self.prefix(boundary).utf8.count + Self.carLength(root: root, cids: cids, sizes: sizes)
            + Self.suffix(boundary).utf8.count
    }

    /// The length of the CARv1 of these blocks: the framed header, then per block
    /// `varint(len(cid) + len(data)) cid data` (ipld/go-car, the CARv1 spec).
    static func carLength(root: CID, cids: [CID], sizes: [Int]) -> Int {
        zip(cids, sizes).reduce(CARv1Header(roots: [root]).framed.count) { $0 + sectionLength($1.0, $1.1) }
    }

    /// The bytes of one CAR section: `varint(len(cid) + len(data)) cid data`.
    static func sectionLength(_ cid: CID, _ size: Int) -> Int {
        let section = cid.encodedLength + size
        return Varint.encodedLength(UInt64(section)) + section
    }

    /// The bytes of the piece of the body that starts with block `start` (with the multipart
    /// head and CAR header first, the multipart tail last): blocks are added until about
    /// `uploadChunkBytes`; returns its length and the block after it.
    func piece(from start: Int) -> (bytes: Int, end: Int) {
        var bytes = start == 0 ? Self.prefix(boundary).utf8.count + CARv1Header(roots: [root]).framed.count : 0
        var end = start
        while bytes < uploadChunkBytes, end < cids.count {
            bytes += Self.sectionLength(cids[end], sizes[end])
            end += 1
        }
        if end == cids.count { bytes += Self.suffix(boundary).utf8.count }
        return (bytes, end)
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// The request body, with its length.
    var body: (HTTPClientRequest.Body, String) { (.stream(self, length: .known(Int64(length))), contentType) }

    static func prefix(_ boundary: String) -> String {
        "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload.car\"\r\nContent-Type: application/vnd.ipld.car\r\n\r\n"
    }

    static func suffix(_ boundary: String) -> String { "\r\n--\(boundary)--\r\n" }

    func makeAsyncIterator() -> Iterator { Iterator(upload: self) }

    struct Iterator: AsyncIteratorProtocol {
        let upload: CARUpload
        let output = PendingBytes()
        var writer: CARWriter<PendingBytes>?
        var position = 0
        var finished = false

        init(upload: CARUpload) { self.upload = upload }

        mutating func next() async throws -> ByteBuffer? {
            guard !finished else { return nil }
            try Task.checkCancellation()
            // One buffer of exactly this piece's size: never regrown, never copied again.
            let (size, end) = upload.piece(from: position)
            output.buffer = ByteBufferAllocator().buffer(capacity: size)
            if writer == nil {
                output.buffer.writeString(CARUpload.prefix(upload.boundary))
                writer = try CARWriter(output: output, roots: [upload.root])
            }
            while position < end {
                let cid = upload.cids[position]
                // A copy read with pread, not a borrowed (mapped) block: the mapped pages of a
                // whole layer would stay resident for the rest of the upload.
                guard let bytes = try upload.blocks.block(cid, verified: false) else {
                    throw RemoteError(.usage, "block \(cid) is not in the local store")
                }
                guard bytes.count == upload.sizes[position] else {
                    throw RemoteError(.usage, "block \(cid) has \(bytes.count) bytes; the store's index says \(upload.sizes[position])")
                }
                try writer!.put(Block(cid: cid, bytes: bytes))
                position += 1
            }
            if position == upload.cids.count {
                try writer!.finish()
                output.buffer.writeString(CARUpload.suffix(upload.boundary))
                finished = true
            }
            guard output.buffer.readableBytes == size else {
                throw RemoteError(.usage, "the upload's piece has \(output.buffer.readableBytes) bytes where \(size) were counted")
            }
            return output.buffer
        }
    }
}

/// About how many bytes each piece of an upload's body holds.
let uploadChunkBytes = 1 << 20

/// A CAR output into the buffer of the upload's current piece.
final class PendingBytes: CAROutput {
    var buffer = ByteBuffer()

    func write(_ data: UnsafeRawBufferPointer) {
        buffer.writeBytes(data)
    }

    var isSeekable: Bool { false }

    func replace(_ range: Range<UInt64>, with bytes: UnsafeRawBufferPointer) throws(CARError) {
        throw CARError(.invalidUse, "an upload cannot be rewritten")
    }

    func flush() {}
}

/// A random multipart boundary.
func makeBoundary() -> String {
    "cairn-" + (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 36) }.joined()
}
