import AsyncHTTPClient
public import Blocks
public import Engine
import Foundation
public import Multiformats
import NIOCore
import NIOHTTP1

/// The IPFS Cluster backend (spec/remote.md §4), after ipfs-cluster api/rest/restapi.go,
/// api/types.go (`Pin`, `PinOptions`, `GlobalPinInfo`, `PinInfoShort`) and api/add.go
/// (`AddedOutput`). Existence goes through the Cluster's Kubo-compatible IPFS proxy (a Kubo RPC
/// address, by default the REST host on port 9095): the REST API knows pinned roots, not blocks.
/// Uploads are `POST /add?format=car` (the Cluster pins the CAR's root on its allocations), pins
/// `POST /pins/{cid}`, names are matched exactly on `GET /allocations`, unpins are `DELETE /pins/{cid}`.
public final class ClusterBlockHolder: RemoteBlockHolder {
    let rest: ClusterREST
    let proxy: KuboBlockHolder
    let options: ClusterOptions

    public init(address: RemoteAddress, settings: RemoteSettings) {
        options = settings.cluster
        proxy = KuboBlockHolder(address: settings.cluster.proxy ?? Self.defaultProxy(address), settings: settings)
        rest = ClusterREST(http: RemoteHTTP(base: address.baseURL, settings: settings))
    }

    public func close() async {
        await rest.http.close()
        await proxy.close()
    }

    /// The REST API's host with the IPFS proxy's default port, 9095 (ipfs-cluster
    /// api/ipfsproxy/config.go `DefaultListenAddrs`).
    static func defaultProxy(_ address: RemoteAddress) -> RemoteAddress {
        let base = address.baseURL
        let schemeEnd = base.range(of: "://").map(\.upperBound) ?? base.startIndex
        var host = String(base[schemeEnd...].prefix { $0 != "/" })
        if let colon = host.lastIndex(of: ":"), !host[colon...].contains("]") { host = String(host[..<colon]) }
        return RemoteAddress(kind: .kubo, baseURL: String(base[..<schemeEnd]) + host + ":9095")
    }

    // MARK: Existence

    /// Asked of the IPFS proxy (`block/stat?offline=true`, as for Kubo).
    public func has(_ cids: [CID]) async throws -> [Bool] { try await proxy.has(cids) }

    /// The IPFS proxy's `refs/local` listing, as for Kubo.
    public func listedPresence(of cids: CIDList, limit: Int) async throws -> [Bool]? {
        try await proxy.listedPresence(of: cids, limit: limit)
    }

    /// `GET /pins/{cid}`: pinned when at least one peer reports `pinned` (that peer holds the
    /// whole DAG); an unknown CID (404, or every peer `unpinned`) is not pinned.
    public func isPinnedRecursively(_ root: CID) async throws -> Bool {
        guard let status = try await status(root) else { return false }
        return status.pinnedPeers >= 1
    }

    /// `GET /pins/{cid}` as a `GlobalPinInfo`, nil when the Cluster does not track the CID.
    func status(_ cid: CID) async throws -> ClusterStatus? {
        try await rest.call(.GET, "/pins/\(cid)", idempotent: true, absent: [404]) { response in
            try decode(ClusterStatus.self, try await collectBody(response, "GET /pins"), "GET /pins/\(cid)")
        }
    }

    // MARK: Upload

    /// `POST /add?format=car` of a CAR streamed as it is produced, with the pin options; the
    /// answer (`AddedOutput` lines, or one JSON array) must name the root. The Cluster answers
    /// with the root only, so the report is what was sent.
    public func put(_ cids: CIDList, root: CID, from blocks: some BlockGetter) async throws -> PutReport {
        guard !cids.isEmpty else { return PutReport() }
        let upload = try CARUpload(cids: cids, root: root, blocks: blocks)
        defer { upload.end() }  // whatever became of the request (CARUpload.Lease)
        let sent = upload.blockBytes
        let body = try upload.body()
        let query = [("format", "car"), ("stream-channels", "true")] + replicationQuery
        let added = try await rest.call(
            .POST, "/add", query, idempotent: false, timeout: uploadTimeout(sent, rest.http.settings),
            body: { body }
        ) { response in try decodeList(ClusterAdded.self, try await collectBody(response, "POST /add"), "POST /add") }
        guard let added, added.contains(where: { (try? CID($0.cid))?.multihash == root.multihash }) else {
            throw RemoteError(.remote, "POST /add on \(rest.http.base) did not confirm the root \(root) of the CAR sent")
        }
        return PutReport(blocks: cids.count, bytes: sent)
    }

    private var replicationQuery: [(String, String)] {
        var query: [(String, String)] = []
        if let min = options.replicationMin { query.append(("replication-min", String(min))) }
        if let max = options.replicationMax { query.append(("replication-max", String(max))) }
        return query
    }

    // MARK: Pins

    /// `POST /pins/{cid}?name=N` (the answer is the `Pin`), then with `wait` polls
    /// `GET /pins/{cid}` until `replication-min` peers (at least one) report `pinned`; a peer in
    /// an error status fails the call with its error. With `replace`, every other pin named
    /// exactly N is then removed.
    public func pin(root: CID, name: String?, replace: Bool) async throws {
        var query = replicationQuery
        if let name { query.append(("name", name)) }
        let pinned = try await rest.call(.POST, "/pins/\(root)", query, idempotent: true) { response in
            try decode(ClusterPin.self, try await collectBody(response, "POST /pins"), "POST /pins/\(root)")
        }
        guard let pinned, (try? CID(pinned.cid))?.multihash == root.multihash else {
            throw RemoteError(.remote, "POST /pins/\(root) on \(rest.http.base) did not confirm the pin")
        }
        if options.wait { try await waitUntilPinned(root) }
        if replace, let name {
            for pin in try await pins(name) where pin.cid.multihash != root.multihash {
                try await unpin(pin.cid)
            }
        }
    }

    private func waitUntilPinned(_ root: CID) async throws {
        let needed = max(1, options.replicationMin ?? 1)
        let deadline = ContinuousClock.now + rest.http.settings.callTimeout
        while true {
            let status = try await status(root)
            if let failed = status?.failedPeer {
                throw RemoteError(.remote, "the Cluster could not pin \(root): peer \(failed.peer) reports \(failed.status)\(failed.error.isEmpty ? "" : ": \(failed.error)")")
            }
            let count = status?.pinnedPeers ?? 0
            if count >= needed { return }
            guard ContinuousClock.now < deadline else {
                throw RemoteError(.unreachable, "\(root) is pinned on \(count) of the \(needed) Cluster peers needed after \(rest.http.settings.callTimeout.goString)")
            }
            try await Task.sleep(for: options.pollInterval)
        }
    }

    /// `GET /allocations?filter=pin` (NDJSON or one array of `Pin`), filtered here by exact name:
    /// the Cluster has no name filter (ipfs-cluster/ipfs-cluster#2323).
    /// Either form is read a pin at a time (the array form of older Clusters is split into its
    /// objects as it comes) and only the pins of that name are kept, whatever the number of
    /// pins: memory follows the pins kept, not the answer (an array of 1.5 M pins read whole
    /// took 819 MB).
    public func pins(_ name: String) async throws -> [RemotePin] {
        let what = "GET /allocations"
        let named = try await rest.call(.GET, "/allocations", [("filter", "pin")], idempotent: true) { response in
            var kept: [ClusterPin] = []
            var line: [UInt8] = []
            var blank = true  // `line` holds only whitespace so far
            // The array form: inside it, the depth of braces and brackets, and string state.
            var inArray = false, depth = 0, inString = false, escaped = false
            func take(_ line: [UInt8]) throws {
                guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x0d || $0 == 0x09 || $0 == 0x0a }) else { return }
                let pin = try decode(ClusterPin.self, line, what)
                if pin.name == name { kept.append(pin) }
            }
            func append(_ byte: UInt8) throws {
                line.append(byte)
                guard line.count <= 16 << 20 else { throw RemoteError(.remote, "\(what): an answer line is too long") }
            }
            for try await buffer in response.body {
                for byte in buffer.readableBytesView {
                    if inArray {
                        if depth == 0 {
                            // Between the array's objects: commas and whitespace; `]` ends it.
                            if byte == UInt8(ascii: "{") { depth = 1; line.removeAll(keepingCapacity: true); line.append(byte) }
                            else if byte == UInt8(ascii: "]") { inArray = false }
                            else if !(byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09 || byte == UInt8(ascii: ",")) {
                                throw RemoteError(.remote, "\(what): the answer is not a JSON array of pins")
                            }
                            continue
                        }
                        try append(byte)
                        if inString {
                            if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                        } else if byte == UInt8(ascii: "\"") {
                            inString = true
                        } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                            depth += 1
                        } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                            depth -= 1
                            if depth == 0 { try take(line); line.removeAll(keepingCapacity: true) }
                        }
                    } else if byte == 0x0a {
                        try take(line)
                        line.removeAll(keepingCapacity: true)
                        blank = true
                    } else if blank && byte == UInt8(ascii: "[") {
                        inArray = true
                        line.removeAll(keepingCapacity: true)
                    } else {
                        try append(byte)
                        if !(byte == 0x20 || byte == 0x0d || byte == 0x09) { blank = false }
                    }
                }
            }
            try checkStreamError(response, what)
            guard !inArray else { throw RemoteError(.remote, "\(what): the answer ends inside its array") }
            try take(line)
            return kept
        }
        return try (named ?? []).map { pin in
            guard let cid = try? CID(pin.cid) else { throw RemoteError(.remote, "GET /allocations: '\(pin.cid)' is not a CID") }
            return RemotePin(cid: cid, name: pin.name, recursive: (pin.max_depth ?? -1) < 0)
        }
    }

    public func unpinAll(_ name: String) async throws -> [CID] {
        let named = try await pins(name)
        for pin in named { try await unpin(pin.cid) }
        return named.map(\.cid)
    }

    /// `DELETE /pins/{cid}`; a pin already gone (404) is not an error.
    private func unpin(_ cid: CID) async throws {
        _ = try await rest.call(.DELETE, "/pins/\(cid)", idempotent: false, absent: [404]) { response in
            _ = try await collectBody(response, "DELETE /pins")
        }
    }

    // MARK: Fetch

    /// Through the IPFS proxy (`dag/export`, verified as for Kubo).
    public func fetch(_ root: CID, scope: FetchScope, into body: @escaping @Sendable (Block) throws -> Void) async throws {
        try await proxy.fetch(root, scope: scope, into: body)
    }
}

/// The Cluster REST transport: errors are `{"code","message"}` (ipfs-cluster api/common/api.go).
struct ClusterREST: Sendable {
    let http: RemoteHTTP

    /// Calls `method path`; a status in `absent` answers nil, any other non-2xx is an error.
    func call<T: Sendable>(
        _ method: HTTPMethod, _ path: String, _ query: [(String, String)] = [], idempotent: Bool,
        timeout: Duration? = nil, absent: Set<UInt> = [],
        body: (@Sendable () -> (HTTPClientRequest.Body, String))? = nil,
        read: @escaping @Sendable (HTTPClientResponse) async throws -> T
    ) async throws -> T? {
        let what = "\(method.rawValue) \(path)", http = self.http
        return try await http.send(what, limit: timeout ?? http.settings.callTimeout, idempotent: idempotent, request: {
            http.request(path, method: method, query: query, body: body?())
        }, read: { try await read($0) as T? }, failure: { status, text in
            if absent.contains(status.code) { return nil }
            throw httpFailure(status, Self.message(of: text), what: what, base: http.base)
        })
    }
}

extension ClusterREST {
    /// The `message` of a Cluster error body, else its first line.
    static func message(of text: String) -> String {
        struct Body: Decodable { var message: String }
        return (try? JSONDecoder().decode(Body.self, from: Data(text.utf8)).message) ?? String(text.split(separator: "\n").first ?? "")
    }
}

/// Options of the Cluster backend (spec/remote.md §4).
public struct ClusterOptions: Sendable {
    /// `replication-min` / `replication-max` of uploads and pins (nil: the Cluster's default).
    public var replicationMin: Int?
    public var replicationMax: Int?
    /// The Kubo RPC address answering existence checks (nil: the REST host, port 9095).
    public var proxy: RemoteAddress?
    /// After pinning, wait until `replication-min` peers (at least one) report `pinned`.
    public var wait = false
    /// The pause between two status polls while waiting.
    public var pollInterval: Duration = .milliseconds(200)

    public init() {}
}

/// ipfs-cluster api/add.go `AddedOutput` (the fields read).
struct ClusterAdded: Decodable, Sendable {
    var cid: String
    var name: String?
}

/// ipfs-cluster api/types.go `Pin` with its embedded `PinOptions` (the fields read).
struct ClusterPin: Decodable, Sendable {
    var cid: String
    var name: String
    var max_depth: Int?
}

/// ipfs-cluster api/types.go `GlobalPinInfo` and `PinInfoShort` (the fields read).
struct ClusterStatus: Decodable, Sendable {
    struct Peer: Decodable, Sendable {
        var peername: String?
        var status: String
        var error: String?
    }
    var cid: String
    var peer_map: [String: Peer]?

    var pinnedPeers: Int { (peer_map ?? [:]).values.filter { $0.status == "pinned" }.count }

    /// The first peer in an error status (`pin_error`, `cluster_error`, `error`, `unexpectedly_unpinned`).
    var failedPeer: (peer: String, status: String, error: String)? {
        let failing: Set<String> = ["pin_error", "cluster_error", "error", "unexpectedly_unpinned"]
        guard let (id, peer) = (peer_map ?? [:]).sorted(by: { $0.key < $1.key }).first(where: { failing.contains($0.value.status) }) else {
            return nil
        }
        return (peer.peername.flatMap { $0.isEmpty ? nil : $0 } ?? id, peer.status, peer.error ?? "")
    }
}

/// A list answer: one JSON array, or one JSON value per line (NDJSON).
func decodeList<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], _ what: String) throws -> [T] {
    if bytes.first(where: { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 }) == UInt8(ascii: "[") {
        return try decode([T].self, bytes, what)
    }
    return try bytes.split(separator: 0x0a).filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x0d } }.map {
        try decode(T.self, Array($0), what)
    }
}
