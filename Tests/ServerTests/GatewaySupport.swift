import AsyncHTTPClient
import BlockStore
import Blocks
import CAR
import Foundation
import Multiformats
import NIOCore
import NIOHTTP1
import Server
import CairnTestSupport

/// The conformance fixtures (`shared/vectors/gateway-conformance/`, ipfs/gateway-conformance v0.13.2).
enum GatewayFixtures {
    static let directory = Vectors.directory.appendingPathComponent("gateway-conformance")
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Every fixture CAR, `all-fixtures-merged.car` included (it holds the blocks of the
    /// fixtures not copied alone, such as subdir-with-two-single-block-files).
    static let cars = [
        "all-fixtures-merged.car", "gateway-raw-block.car", "dir-with-dag-cbor-with-links.car",
        "dir-with-duplicate-files.car", "subdir-with-mixed-block-files.car",
        "single-layer-hamt-with-multi-block-files.car", "file-3k-and-3-blocks-missing-block.car",
    ]

    /// The blocks of a fixture CAR in file order (each verified by the CAR reader).
    static func blocks(_ name: String) throws -> [Block] {
        var options = CARVerifyOptions()
        options.requireRoots = false
        var blocks: [Block] = []
        try CARVerifier.verify(path: path(name), options: options) { blocks.append(Block(cid: $0.cid, bytes: Array($0.bytes))) }
        return blocks
    }

    /// Stores every block of `cars` as `cairn car import --pin=false` does: all of them, reachable
    /// from a root or not, complete DAGs or not.
    static func importAll(_ cars: [String], into store: BlockStore) throws {
        for car in cars { _ = try store.putMany(try blocks(car)) }
    }

    static func cid(_ text: String) -> CID { try! CID(text) }
}

/// Runs a gateway (no RPC listener) over a fresh store holding `cars`, and calls `body` with
/// its `HOST:PORT` and the store.
func withGateway(
    cars: [String] = GatewayFixtures.cars,
    _ body: @Sendable (String, BlockStore) async throws -> Void
) async throws {
    // Server and requests on threads of their own (DedicatedExecutor: the suite's synchronous
    // tests may hold every thread of Swift concurrency's pool meanwhile).
    try await withTaskExecutorPreference(DedicatedExecutor.shared) {
        let directory = try makeTemporaryDirectory("gateway")
        defer { try? FileManager.default.removeItem(at: directory) }
        let layout = StoreLayout(root: directory.path + "/store")
        let store = try BlockStore(layout: layout)
        try GatewayFixtures.importAll(cars, into: store)
        let server = try CairnServer(configuration: ServerConfiguration(
            store: layout, api: nil, gateway: ListenAddress(host: "127.0.0.1", port: 0)))
        try await runUntilDone(server, listeners: 1) { addresses in
            try await body(addresses["gateway"]?.description ?? "", store)
        }
    }
}

/// Runs `server` on threads of its own, calls `body` with its listeners' addresses by name
/// (`"api"`, `"gateway"`) once `listeners` of them are up, then shuts it down gracefully,
/// whether `body` returned or threw: finishing `stopping` does it, as a signal does in `cairn
/// serve`. Cancelling the server's task instead could trap: Hummingbird then drops a connection
/// accepted but not yet served, whose NIOAsyncWriter traps when released unfinished
/// (apple/swift-nio#3481).
func runUntilDone(
    _ server: CairnServer, listeners: Int,
    _ body: ([String: ListenAddress]) async throws -> Void
) async throws {
    let (ready, continuation) = AsyncStream.makeStream(of: (String, ListenAddress).self)
    let (stopping, stop) = AsyncStream.makeStream(of: Void.self)
    let serving = Task(executorPreference: DedicatedExecutor.shared) {
        // A server that stops before its listeners are up (a bind that fails) ends the wait
        // below, which then reports its error instead of waiting for good.
        defer { continuation.finish() }
        try await server.run(shutdownSignals: [], ready: { name, address in continuation.yield((name, address)) },
                             stop: { for await _ in stopping {} })
    }
    var addresses: [String: ListenAddress] = [:]
    for await (name, address) in ready {
        addresses[name] = address
        if addresses.count == listeners { break }
    }
    guard addresses.count == listeners else {
        stop.finish()
        try await serving.value
        throw ServerStoppedEarly(listening: addresses.count, expected: listeners)
    }
    do {
        try await body(addresses)
    } catch {
        stop.finish()
        _ = try? await serving.value
        throw error
    }
    stop.finish()
    try await serving.value
}

/// A test server that returned without error before all its listeners were up.
struct ServerStoppedEarly: Error, CustomStringConvertible {
    var listening: Int
    var expected: Int
    var description: String { "the test server stopped with \(listening) of \(expected) listeners up" }
}

/// One gateway answer: status, headers, body.
struct GatewayAnswer: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first(name: name) }

    /// The CIDs of the CAR body's blocks in order (each verified by the CAR reader).
    func carBlocks() throws -> [CID] {
        var options = CARVerifyOptions()
        options.requireRoots = false
        var cids: [CID] = []
        try CARVerifier.verify(CARMemorySource(body), options: options) { cids.append($0.cid) }
        return cids
    }
}

/// `GET` (or another method) of `path` (with its query) on the gateway.
func gatewayGet(_ gateway: String, _ path: String, method: HTTPMethod = .GET, headers: [(String, String)] = []) async throws -> GatewayAnswer {
    var request = HTTPClientRequest(url: "http://\(gateway)\(path)")
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30 * Sanitizer.deadlineScale))
    let body = try await response.body.collect(upTo: 64 << 20)
    return GatewayAnswer(status: Int(response.status.code), headers: response.headers, body: Array(buffer: body))
}

/// A block of `bytes` under a sha2-256 CID computed by the suite's own SHA-256 (`TestSHA256`):
/// CIDv1 with `codec`, or CIDv0 with `v0` (dag-pb only).
func testBlock(_ codec: Multicodec, _ bytes: [UInt8], v0: Bool = false) throws -> Block {
    var hasher = TestSHA256()
    hasher.update(Data(bytes))
    let multihash = try Multihash(code: .sha2_256, digest: Array(hasher.finalize()))
    return Block(cid: v0 ? try CID.v0(multihash) : CID.v1(codec: codec, multihash: multihash), bytes: bytes)
}
