import AsyncHTTPClient
import Blocks
import CAR
import Engine
import Multiformats
import NIOCore

/// A multipart body holding one CARv1 of the blocks `cids`, produced as it is sent
/// (spec/remote.md §3.3): each `next()` reads blocks from the local store until about 1 MiB is
/// ready, so neither a temporary file nor the whole layer ever exists, in memory or resident.
struct CARUpload<Getter: BlockGetter>: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let cids: [CID]
    let root: CID
    let blocks: Getter
    let boundary: String
    /// The bytes of the blocks (sizes from the store's index).
    let blockBytes: UInt64

    init(cids: [CID], root: CID, blocks: Getter) throws {
        self.cids = cids
        self.root = root
        self.blocks = blocks
        boundary = makeBoundary()
        blockBytes = try blockSizes(of: cids, in: blocks).reduce(0) { $0 + UInt64($1) }
    }

    static var chunkBytes: Int { 1 << 20 }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// The request body (chunked: its length is not known beforehand).
    var body: (HTTPClientRequest.Body, String) { (.stream(self, length: .unknown), contentType) }

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
            if writer == nil {
                output.bytes.append(contentsOf: CARUpload.prefix(upload.boundary).utf8)
                writer = try CARWriter(output: output, roots: [upload.root])
            }
            while output.bytes.count < CARUpload.chunkBytes, position < upload.cids.count {
                let cid = upload.cids[position]
                position += 1
                // A copy read with pread, not a borrowed (mapped) block: the mapped pages of a
                // whole layer would stay resident for the rest of the upload.
                if let bytes = try upload.blocks.block(cid, verified: false) {
                    try writer!.put(cid, bytes)
                } else {
                    throw RemoteError(.usage, "block \(cid) is not in the local store")
                }
            }
            if position == upload.cids.count {
                try writer!.finish()
                output.bytes.append(contentsOf: CARUpload.suffix(upload.boundary).utf8)
                finished = true
            }
            defer { output.bytes.removeAll(keepingCapacity: true) }
            return ByteBuffer(bytes: output.bytes)
        }
    }
}

/// A CAR output that keeps what was written until the upload takes it.
final class PendingBytes: CAROutput {
    var bytes: [UInt8] = []

    func write(_ data: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: data)
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
