import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import Blocks
import CAR
import Multiformats
import CairnTestSupport

/// An IPFS Cluster in miniature: its REST API (ipfs-cluster api/rest/restapi.go routes `POST
/// /add`, `GET|POST|DELETE /pins/{cid}`, `GET /allocations`) with two peers, and its IPFS proxy,
/// played by a `KuboTestNode` that holds the blocks. The JSON follows ipfs-cluster api/types.go
/// field for field: `Pin` (with its embedded `PinOptions`), `GlobalPinInfo` with `PinInfoShort`
/// per peer, and api/add.go `AddedOutput`; errors are api/common/api.go's `{"code","message"}`,
/// a refused Basic credential is 401. Uploads are counted here, on the server side.
final class ClusterTestNode: @unchecked Sendable {
    struct Pin { var cid: CID; var name: String; var min: Int; var max: Int }

    let ipfs = KuboTestNode()
    static let peers = ["12D3KooWBhSZ7zWTn1CPCfkTgBC7vUUuAXCjS9fnhnZnrVUhzfZT", "12D3KooWQrYBkvAQ3H3NE4yDSjzXvUqCiEgALfLvAzvLC3AhNdUN"]
    private let lock = NSLock()
    private var pinList: [Pin] = []
    private var polls: [CID: Int] = [:]
    private(set) var adds: [(blocks: Int, bytes: Int, query: String)] = []
    private(set) var requests: [String] = []

    /// The `Authorization` header required (nil: none).
    var requiredAuthorization: String?
    /// `GET /pins/{cid}` answers `pinning` this many times before `pinned`.
    var pinningPolls = 0
    /// The second peer reports `pin_error` with this error.
    var pinError: String?
    /// `POST /add` fails with a 500 and this message.
    var addError: String?
    /// `GET /allocations` answers one JSON array (`stream-channels=false`) instead of NDJSON.
    var allocationsAsArray = false

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    var pins: [Pin] { locked { pinList } }
    var uploads: [(blocks: Int, bytes: Int, query: String)] { locked { adds } }
    var calls: [String] { locked { requests } }
    func addPin(_ cid: CID, name: String) { locked { pinList.append(Pin(cid: cid, name: name, min: -1, max: -1)) } }

    /// Runs the REST API and the proxy on free loopback ports; `body` gets
    /// (`cluster+http://127.0.0.1:REST`, `http://127.0.0.1:PROXY`).
    func serve(_ body: @Sendable (String, String) async throws -> Void) async throws {
        try await ipfs.serve { proxy in
            try await serveOnLoopback("cluster-test-node", respond: { try await self.respond($0) }) { port in
                try await body("cluster+http://127.0.0.1:\(port)", proxy)
            }
        }
    }

    func respond(_ request: Request) async throws -> Response {
        var request = request
        let path = request.uri.path
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters where query[String(key)] == nil { query[String(key)] = String(value) }
        locked { requests.append("\(request.method) \(path)") }
        if let requiredAuthorization, request.headers[.authorization] != requiredAuthorization {
            return Self.json(.unauthorized, Self.error(401, "Unauthorized"))
        }
        let cid = path.hasPrefix("/pins/") ? try? CID(String(path.dropFirst("/pins/".count))) : nil
        switch (request.method, path) {
        case (.post, "/add"):
            if let addError { return Self.json(.internalServerError, Self.error(500, addError)) }
            guard query["format"] == "car" else { return Self.json(.badRequest, Self.error(400, "this test node takes format=car only")) }
            let body = try await request.collectBody(upTo: 1 << 30)
            return try add(body, request.headers[.contentType] ?? "", query)
        case (.get, "/allocations"):
            if allocationsAsArray { return Self.json(.ok, "[" + pins.map(Self.pinJSON).joined(separator: ",") + "]") }
            return Self.json(.ok, pins.map { Self.pinJSON($0) + "\n" }.joined(), streamed: true)
        case (.get, _) where cid != nil:
            return Self.json(.ok, status(cid!))
        case (.post, _) where cid != nil:
            let pin = Pin(cid: cid!, name: query["name"] ?? "",
                          min: query["replication-min"].flatMap { Int($0) } ?? -1, max: query["replication-max"].flatMap { Int($0) } ?? -1)
            track(pin)
            return Self.json(.ok, Self.pinJSON(pin))
        case (.delete, _) where cid != nil:
            guard let removed = locked({ () -> Pin? in
                guard let index = pinList.firstIndex(where: { $0.cid.multihash == cid!.multihash }) else { return nil }
                return pinList.remove(at: index)
            }) else {
                return Self.json(.notFound, Self.error(404, "\(cid!) is not pinned"))
            }
            return Self.json(.ok, Self.pinJSON(removed))
        default:
            return Self.json(.notFound, Self.error(404, "not found"))
        }
    }

    private func track(_ pin: Pin) {
        locked {
            pinList.removeAll { $0.cid.multihash == pin.cid.multihash }
            pinList.append(pin)
        }
    }

    /// `POST /add?format=car`: every block checked and stored in the IPFS peer, the CAR's one
    /// root pinned with the query's options; the answer is one `AddedOutput` line.
    private func add(_ body: ByteBuffer, _ contentType: String, _ query: [String: String]) throws -> Response {
        guard let car = multipartParts(body, contentType).first else { return Self.json(.badRequest, Self.error(400, "no file")) }
        let (headerLength, varintLength) = carVarint(car)
        let header = try car[varintLength..<(varintLength + headerLength)].withUnsafeBytes { try CARv1Header.decode($0) }
        guard header.roots.count == 1 else {
            return Self.json(.internalServerError, Self.error(500, "only CAR files with a single root are supported"))
        }
        var count = 0, bytes = 0
        for (cid, data) in try carSections(car) {
            guard data.withUnsafeBytes({ BlockVerifier.verdict(cid, $0) }) == .valid else {
                return Self.json(.internalServerError, Self.error(500, "block \(cid) does not match its hash"))
            }
            ipfs.store(cid, data)
            count += 1
            bytes += data.count
        }
        let root = header.roots[0]
        let queryText = ["name", "replication-min", "replication-max"].compactMap { key in query[key].map { "\(key)=\($0)" } }.joined(separator: "&")
        locked { adds.append((count, bytes, queryText)) }
        track(Pin(cid: root, name: query["name"] ?? "",
                  min: query["replication-min"].flatMap { Int($0) } ?? -1, max: query["replication-max"].flatMap { Int($0) } ?? -1))
        let allocations = Self.peers.map { "\"\($0)\"" }.joined(separator: ",")
        return Self.json(.ok, "{\"name\":\"upload.car\",\"cid\":\"\(root)\",\"bytes\":\(bytes),\"size\":\(bytes),\"allocations\":[\(allocations)]}\n", streamed: true)
    }

    /// `GlobalPinInfo`: per peer `pinned` once the DAG is complete on the IPFS peer (after
    /// `pinningPolls` answers of `pinning`), `pin_error` on the second peer when asked; an
    /// untracked CID is `unpinned` everywhere.
    private func status(_ cid: CID) -> String {
        let pin = pins.first { $0.cid.multihash == cid.multihash }
        let remaining: Int = locked {
            let left = polls[cid, default: pinningPolls]
            polls[cid] = max(0, left - 1)
            return left
        }
        let complete = ipfs.firstMissing(below: cid) == nil
        let peerMap = Self.peers.enumerated().map { index, peer in
            var status = "unpinned", error = ""
            if pin != nil {
                status = remaining > 0 || !complete ? "pinning" : "pinned"
                if index == 1, let pinError { status = "pin_error"; error = pinError }
            }
            return "\"\(peer)\":{\"peername\":\"peer\(index)\",\"ipfs_peer_id\":\"12D3KooWIpfs\(index)\",\"ipfs_peer_addresses\":[\"/ip4/127.0.0.1/tcp/4001\"],"
                + "\"status\":\"\(status)\",\"timestamp\":\"2026-12-06T00:00:00Z\",\"error\":\"\(error)\",\"attempt_count\":0,\"priority_pin\":false}"
        }.joined(separator: ",")
        return "{\"cid\":\"\(cid)\",\"name\":\"\(pin?.name ?? "")\",\"allocations\":[],\"origins\":[],\"created\":\"2026-12-06T00:00:00Z\",\"metadata\":null,\"peer_map\":{\(peerMap)}}"
    }

    /// api/types.go `Pin` with its embedded `PinOptions`, as `json.Marshal` writes it.
    static func pinJSON(_ pin: Pin) -> String {
        "{\"replication_factor_min\":\(pin.min),\"replication_factor_max\":\(pin.max),\"name\":\"\(pin.name)\",\"mode\":\"recursive\","
            + "\"shard_size\":0,\"user_allocations\":null,\"expire_at\":\"0001-01-01T00:00:00Z\",\"metadata\":null,\"origins\":[],"
            + "\"cid\":\"\(pin.cid)\",\"type\":\"pin\",\"allocations\":[\(peers.map { "\"\($0)\"" }.joined(separator: ","))],"
            + "\"max_depth\":-1,\"reference\":null,\"timestamp\":\"2026-12-06T00:00:00Z\"}"
    }

    static func error(_ code: Int, _ message: String) -> String { "{\"code\":\(code),\"message\":\"\(message)\"}" }

    /// A JSON answer; streamed ones (NDJSON) declare the `X-Stream-Error` trailer (api/common/api.go).
    static func json(_ status: HTTPResponse.Status, _ text: String, streamed: Bool = false) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if streamed { headers[HTTPField.Name("Trailer")!] = "X-Stream-Error" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The leading varint of a CAR (its header length) and the varint's own length.
func carVarint(_ bytes: [UInt8]) -> (Int, Int) {
    var value = 0, shift = 0, index = 0
    while index < bytes.count {
        let byte = bytes[index]
        index += 1
        value |= Int(byte & 0x7f) << shift
        if byte & 0x80 == 0 { break }
        shift += 7
    }
    return (value, index)
}
