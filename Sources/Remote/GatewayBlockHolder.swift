import AsyncHTTPClient
import Foundation
public import Engine
public import Multiformats
import NIOCore
import NIOHTTP1
public import Blocks

/// The trustless-gateway backend, read side only (spec/remote.md §6, after
/// ipfs/specs src/http-gateways/trustless-gateway.md): existence through
/// `HEAD /ipfs/{cid}?format=raw` with `Cache-Control: only-if-cached`, fetch through
/// `GET ?format=car` (the response's `order` and `dups` honoured) or `?format=raw`.
public final class GatewayBlockHolder: RemoteBlockHolder {
    let http: RemoteHTTP

    public init(address: RemoteAddress, settings: RemoteSettings) {
        http = RemoteHTTP(base: address.baseURL, settings: settings)
    }

    public func close() async { await http.close() }

    /// `HEAD` per CID, `concurrency` in flight: 200 is present; 404 and 412 (not cached) are
    /// absent; anything else is an error.
    public func has(_ cids: [CID]) async throws -> [Bool] {
        try await concurrentMap(cids, width: http.settings.concurrency) { try await self.has($0) }
    }

    private func has(_ cid: CID) async throws -> Bool {
        let http = self.http, what = "HEAD /ipfs/\(cid)"
        var prepared = http.request("/ipfs/\(cid)", method: .HEAD, query: [("format", "raw")])
        prepared.headers.add(name: "Accept", value: "application/vnd.ipld.raw")
        prepared.headers.add(name: "Cache-Control", value: "only-if-cached")
        let request = prepared
        return try await http.retrying(idempotent: true) {
            return try await http.withDeadline(http.settings.callTimeout, what) {
                let response = try await Self.execute(http, request, what)
                switch response.status.code {
                case 200: return true
                case 404, 412: return false
                default: throw Self.failure(response.status, what, http.base)
                }
            }
        }
    }

    public func isPinnedRecursively(_ root: CID) async throws -> Bool { false }

    public func put(_ cids: CIDList, root: CID, from blocks: some BlockGetter) async throws -> PutReport {
        throw Self.readOnly
    }

    public func pin(root: CID, name: String?, replace: Bool) async throws { throw Self.readOnly }
    public func unpinAll(_ name: String) async throws -> [CID] { throw Self.readOnly }
    public func pins(_ name: String) async throws -> [RemotePin] { throw Self.readOnly }

    static var readOnly: RemoteError {
        RemoteError(.usage, "a trustless gateway only serves blocks: push and pin to a Kubo RPC or cluster+http address")
    }

    /// `GET /ipfs/{root}?format=car&dag-scope=…` asking for `order=dfs; dups=n`; the
    /// `Content-Type` answered says what came (a missing `order` is `unk`, a missing `dups`
    /// may hold duplicates), and the stream is checked accordingly. A gateway that refuses CARs
    /// (406 or 501), or `fetchMode` `.raw`, is asked block by block instead (`fetchRaw`).
    public func fetch(_ root: CID, scope: FetchScope, into body: @escaping @Sendable (Block) throws -> Void) async throws {
        if http.settings.fetchMode == .car, try await fetchCAR(root, scope: scope, into: body) { return }
        try await fetchRaw(root, scope: scope, into: body)
    }

    /// The CAR fetch; false when the gateway refuses CARs before sending anything.
    private func fetchCAR(_ root: CID, scope: FetchScope, into body: @escaping @Sendable (Block) throws -> Void) async throws -> Bool {
        let http = self.http, what = "GET /ipfs/\(root)"
        var prepared = http.request("/ipfs/\(root)", method: .GET, query: [
            ("format", "car"), ("dag-scope", scope.rawValue), ("car-version", "1"), ("car-order", "dfs"), ("car-dups", "n"),
        ])
        prepared.headers.add(name: "Accept", value: "application/vnd.ipld.car; version=1; order=dfs; dups=n")
        let request = prepared
        return try await http.withDeadline(.seconds(3600), what) {
            let response = try await Self.execute(http, request, what)
            if response.status.code == 406 || response.status.code == 501 { return false }
            if (300..<400).contains(response.status.code) {
                let location = response.headers.first(name: "Location").map { " to \(http.redact($0))" } ?? ""
                throw RemoteError(.remote, "\(what): \(http.base) answered with a redirect (HTTP \(response.status.code))\(location), which is not followed")
            }
            guard response.status == .ok else { throw Self.failure(response.status, what, http.base) }
            let (order, duplicates) = try Self.carParameters(response.headers["Content-Type"].first ?? "")
            let verifier = DAGVerifier(root: root, scope: scope, order: order, duplicates: duplicates,
                                       maxUnlinked: http.settings.maxUnlinkedBlocks, maxHeldLinks: http.settings.maxHeldLinks,
                                       keysInMemory: http.settings.receivedKeysInMemory)
            do {
                try await verifier.consume(response, what, body)
            } catch {
                throw http.streamFailure(error, what)
            }
            return true
        }
    }

    /// One `GET /ipfs/{cid}?format=raw` per block, `concurrency` in flight. Each block is hashed
    /// against its CID before its links are followed, so only blocks of the DAG are ever asked
    /// for; `body` gets them one at a time, in the order they verify.
    func fetchRaw(_ root: CID, scope: FetchScope, into body: @escaping @Sendable (Block) throws -> Void) async throws {
        let width = max(1, http.settings.concurrency)
        var queue = [root], seen: Set<CID> = [root]
        try await withThrowingTaskGroup(of: (CID, [UInt8]).self) { group in
            var running = 0
            while true {
                while running < width, let cid = queue.popLast() {
                    group.addTask { (cid, try await self.rawBlock(cid)) }
                    running += 1
                }
                guard let (cid, bytes) = try await group.next() else { break }
                running -= 1
                let links = try bytes.withUnsafeBytes { raw in
                    try requireValidBlock(cid, raw)
                    return scope == .block ? [] : try linksOfFetched(cid, raw)
                }
                try body(Block(cid: cid, bytes: bytes))
                for link in links.reversed() where link.multihash.code != .identity && seen.insert(link).inserted {
                    queue.append(link)
                }
            }
        }
    }

    /// `GET /ipfs/{cid}?format=raw` with `Accept: application/vnd.ipld.raw`: the block's bytes.
    private func rawBlock(_ cid: CID) async throws -> [UInt8] {
        let http = self.http, what = "GET /ipfs/\(cid)?format=raw"
        return try await http.send(what, limit: http.settings.callTimeout, idempotent: true, request: {
            var request = http.request("/ipfs/\(cid)", method: .GET, query: [("format", "raw")])
            request.headers.add(name: "Accept", value: "application/vnd.ipld.raw")
            return request
        }, read: { response in
            try await collectBody(response, limit: DAGVerifier.maxBlock, what)
        }, failure: { status, _ in
            throw Self.failure(status, what, http.base)
        })
    }

    /// The `order` and `dups` of a CAR response's content type; a version other than 1 is refused.
    static func carParameters(_ contentType: String) throws -> (DAGVerifier.Order, Bool) {
        // RFC 9110 §8.3.1: the type and parameter names are case-insensitive, a value may be
        // a quoted string; the CAR parameters' values are tokens, compared in lower case.
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "application/vnd.ipld.car" else {
            throw RemoteError(.verification, "the gateway answered '\(contentType)', not a CAR")
        }
        var parameters: [String: String] = [:]
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            parameters[pair[0].trimmingCharacters(in: .whitespaces).lowercased()] = value.lowercased()
        }
        if let version = parameters["version"], version != "1" {
            throw RemoteError(.verification, "the gateway sent a CAR version \(version); version 1 was asked")
        }
        return (parameters["order"] == "dfs" ? .dfs : .unknown, parameters["dups"] != "n")
    }

    static func execute(_ http: RemoteHTTP, _ request: HTTPClientRequest, _ what: String) async throws -> HTTPClientResponse {
        do {
            return try await http.client.execute(request, timeout: .nanoseconds(http.settings.callTimeout.nanoseconds))
        } catch {
            throw http.transportError(error, what)
        }
    }

    static func failure(_ status: HTTPResponseStatus, _ what: String, _ base: String) -> RemoteError {
        status.code == 404
            ? RemoteError(.remote, "\(what): \(base) does not have it (HTTP 404)")
            : httpFailure(status, "", what: what, base: base)
    }
}
