import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import Blocks
import CAR
import Multiformats
import CairnTestSupport

/// A Kubo RPC node in miniature for the client's tests: it keeps blocks and named pins, and
/// answers in Kubo's dialect. Every answer's status, headers and body follow a recorded
/// exchange in `KuboExchanges` (each citing the Kubo source or sharness test it comes from).
/// It counts, on the server side, the blocks each upload carried, and can misbehave on demand.
final class KuboTestNode: @unchecked Sendable {
    private let lock = NSLock()
    private var blocks: [Multihash: [UInt8]] = [:]
    private var pinList: [(cid: CID, name: String)] = []
    /// Every call, in order (`command` or `command arg`).
    private(set) var calls: [String] = []
    /// Blocks and bytes carried by each upload (`dag/import` or `block/put`), as received.
    private(set) var uploads: [(blocks: Int, bytes: Int)] = []

    var version = "0.26.0"
    /// The `Authorization` header required (nil: none).
    var requiredAuthorization: String?
    /// Fail with a 500 every `failEvery`-th call of the commands in `failCommands`.
    var failEvery: Int?
    var failCommands: Set<String> = []
    private var failCounter = 0
    /// Answer nothing while set (a hanging node); tests clear it before the node stops.
    var hang = false
    /// Break off a `dag/import` after storing this many of its blocks.
    var breakImportAfter: Int?
    /// Answer `dag/import` with 404, as a node without it does.
    var withoutDagImport = false
    /// Send `pin/ls` answers with an error in the `X-Stream-Error` trailer.
    var pinListStreamError: String?
    /// Answer `refs/local` with 404, as a node without it does.
    var withoutRefsLocal = false
    /// End the `refs/local` listing with a `{"Ref":"","Err":…}` line.
    var refsLocalError: String?
    /// Break off `dag/export` half-way with this error in the `X-Stream-Error` trailer.
    var exportStreamError: String?
    /// `pin/rm` answers `{"Pins":[]}` and removes nothing (a node that does not confirm).
    var pinRemoveConfirmsNothing = false

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    func store(_ cid: CID, _ bytes: [UInt8]) { locked { blocks[cid.multihash] = bytes } }
    func holds(_ cid: CID) -> Bool { locked { blocks[cid.multihash] != nil } }
    func block(_ cid: CID) -> [UInt8]? { locked { blocks[cid.multihash] } }
    var blockCount: Int { locked { blocks.count } }
    func addPin(_ cid: CID, name: String) { locked { pinList.append((cid, name)) } }
    var pins: [(cid: CID, name: String)] { locked { pinList } }
    var uploaded: [(blocks: Int, bytes: Int)] { locked { uploads } }
    var callLog: [String] { locked { calls } }

    // MARK: Serving

    /// Runs the node on a free loopback port; `body` gets `http://127.0.0.1:PORT`.
    func serve(_ body: @Sendable (String) async throws -> Void) async throws {
        try await serveOnLoopback("kubo-test-node", respond: { try await self.respond($0) }) { port in
            try await body("http://127.0.0.1:\(port)")
        }
    }

    func respond(_ request: Request) async throws -> Response {
        var request = request
        let path = request.uri.path
        let query = request.uri.queryParameters
        let command = String(path.dropFirst("/api/v0/".count))
        let arg = query["arg"].map(String.init)
        let shouldFail: Bool = locked {
            calls.append(arg.map { "\(command) \($0)" } ?? command)
            guard let failEvery, failCommands.contains(command) else { return false }
            failCounter += 1
            return failCounter % failEvery == 0
        }
        while hang { try await Task.sleep(for: .milliseconds(50)) }  // until the test lets go
        if let requiredAuthorization, request.headers[.authorization] != requiredAuthorization {
            return KuboExchanges.accessDenied.response()
        }
        guard request.method == .post else { return KuboExchanges.methodNotAllowed.response() }
        if shouldFail { return KuboExchanges.internalError("injected failure").response() }
        switch command {
        case "version":
            return KuboExchanges.version(version).response()
        case "block/stat":
            guard let arg, let cid = try? CID(arg) else { return KuboExchanges.badArgument.response() }
            guard let bytes = block(cid) else { return KuboExchanges.notFoundLocally(cid).response() }
            return KuboExchanges.blockStat(cid, size: bytes.count).response()
        case "refs/local":
            if withoutRefsLocal { return KuboExchanges.unknownCommand.response() }
            return KuboExchanges.localRefs(locked { Array(blocks.keys) }, error: refsLocalError).response()
        case "dag/import":
            if withoutDagImport { return KuboExchanges.unknownCommand.response() }
            let body = try await request.collectBody(upTo: 1 << 30)
            return try importCAR(body, request.headers[.contentType] ?? "")
        case "block/put":
            let body = try await request.collectBody(upTo: 1 << 30)
            return try putBlocks(body, request.headers[.contentType] ?? "", codec: query["cid-codec"].map(String.init) ?? "raw")
        case "pin/add":
            guard let arg, let cid = try? CID(arg) else { return KuboExchanges.badArgument.response() }
            if let missing = firstMissing(below: cid) { return KuboExchanges.pinMissing(missing).response() }
            let name = query["name"].map(String.init) ?? ""
            locked {
                pinList.removeAll { $0.cid.multihash == cid.multihash }
                pinList.append((cid, name))
            }
            return KuboExchanges.pins(cid).response()
        case "pin/rm":
            guard let arg, let cid = try? CID(arg) else { return KuboExchanges.badArgument.response() }
            if pinRemoveConfirmsNothing {
                return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"Pins\":[]}\n")))
            }
            let removed = locked { () -> Bool in
                let before = pinList.count
                pinList.removeAll { $0.cid.multihash == cid.multihash }
                return pinList.count < before
            }
            return removed ? KuboExchanges.pins(cid).response() : KuboExchanges.notPinned(cid).response()
        case "pin/ls":
            if let arg, let cid = try? CID(arg) {
                guard let pin = pins.first(where: { $0.cid.multihash == cid.multihash }) else {
                    return KuboExchanges.notPinned(cid).response()
                }
                return KuboExchanges.pinKeys([pin]).response()
            }
            var listed = pins
            if let name = query["name"] { listed = listed.filter { $0.name.contains(name) } }  // Kubo: substring
            if query["stream"] == "true" { return KuboExchanges.pinStream(listed, trailerError: pinListStreamError).response() }
            return KuboExchanges.pinKeys(listed).response()
        case "dag/export":
            guard let arg, let cid = try? CID(arg) else { return KuboExchanges.badArgument.response() }
            return try exportCAR(cid)
        default:
            return KuboExchanges.unknownCommand.response()
        }
    }

    /// The first block of `root`'s DAG this node lacks.
    func firstMissing(below root: CID) -> CID? {
        var stack = [root], seen: Set<CID> = []
        while let cid = stack.popLast() {
            guard seen.insert(cid).inserted, cid.multihash.code != .identity else { continue }
            guard let bytes = block(cid) else { return cid }
            stack.append(contentsOf: (try? links(of: cid, bytes)) ?? [])
        }
        return nil
    }

    private func importCAR(_ body: ByteBuffer, _ contentType: String) throws -> Response {
        let parts = multipartParts(body, contentType)
        var count = 0, bytes = 0
        for part in parts {
            for (cid, data) in try carSections(part) {
                guard BlockVerifier.verdict(cid, data.withUnsafeBytes { UnsafeRawBufferPointer($0) }) == .valid else {
                    return KuboExchanges.internalError("block \(cid) does not match its hash").response()
                }
                store(cid, data)
                count += 1
                bytes += data.count
                if let limit = breakImportAfter, count >= limit {
                    locked { uploads.append((count, bytes)) }
                    throw CancellationError()  // the connection is dropped mid-upload
                }
            }
        }
        locked { uploads.append((count, bytes)) }
        return KuboExchanges.importStats(blocks: count, bytes: bytes).response()
    }

    private func putBlocks(_ body: ByteBuffer, _ contentType: String, codec: String) throws -> Response {
        var answers: [(CID, Int)] = []
        var total = 0
        for part in multipartParts(body, contentType) {
            var sha = TestSHA256()
            sha.update(part)
            let digest = sha.finalize()
            let multihash = try Multihash(code: .sha2_256, digest: digest)
            let cid = CID.v1(codec: try Multicodec.named(codec), multihash: multihash)
            store(cid, part)
            answers.append((cid, part.count))
            total += part.count
        }
        locked { uploads.append((answers.count, total)) }
        return KuboExchanges.blockPutLines(answers).response()
    }

    private func exportCAR(_ root: CID) throws -> Response {
        guard holds(root) else { return KuboExchanges.notFoundLocally(root).response() }
        var writer = try CARWriter(output: CARMemoryOutput(), roots: [root])
        var stack = [root], seen: Set<CID> = []
        while let cid = stack.popLast() {
            guard seen.insert(cid).inserted, let bytes = block(cid) else { continue }
            try writer.put(Block(cid: cid, bytes: bytes))
            stack.append(contentsOf: ((try? links(of: cid, bytes)) ?? []).reversed())
        }
        try writer.finish()
        guard let exportStreamError else { return KuboExchanges.carStream(writer.output.bytes).response() }
        var broken = KuboExchanges.carStream(Array(writer.output.bytes.prefix(writer.output.bytes.count / 2)))
        broken.trailerError = exportStreamError
        return broken.response()
    }
}

/// The parts of a `multipart/form-data` body (the test's own reading of RFC 7578).
func multipartParts(_ body: ByteBuffer, _ contentType: String) -> [[UInt8]] {
    guard let range = contentType.range(of: "boundary=") else { return [] }
    let boundary = Array(("--" + contentType[range.upperBound...]).utf8)
    let bytes = Array(body.readableBytesView)
    var parts: [[UInt8]] = []
    var cursor = 0
    func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard needle.count <= bytes.count else { return nil }
        var i = start
        while i + needle.count <= bytes.count {
            if bytes[i] == needle[0], bytes[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
    guard var start = find(boundary, from: cursor) else { return [] }
    while true {
        cursor = start + boundary.count
        if bytes[cursor..<min(cursor + 2, bytes.count)].elementsEqual(Array("--".utf8)) { break }
        guard let headerEnd = find(Array("\r\n\r\n".utf8), from: cursor),
              let next = find(Array("\r\n".utf8) + boundary, from: headerEnd + 4) else { break }
        parts.append(Array(bytes[(headerEnd + 4)..<next]))
        start = next + 2
    }
    return parts
}

/// The sections of a CARv1 (the header skipped), read by the test itself.
func carSections(_ bytes: [UInt8]) throws -> [(CID, [UInt8])] {
    var offset = 0
    func varint() -> Int? {
        var value = 0, shift = 0
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            value |= Int(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
    guard let headerLength = varint() else { return [] }
    offset += headerLength
    var sections: [(CID, [UInt8])] = []
    while offset < bytes.count, let length = varint() {
        let section = Array(bytes[offset..<(offset + length)])
        offset += length
        let (cid, cidLength) = try section.withUnsafeBytes { try CID.decode(prefixOf: $0) }
        sections.append((cid, Array(section[cidLength...])))
    }
    return sections
}
