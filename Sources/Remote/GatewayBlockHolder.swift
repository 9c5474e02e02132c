import AsyncHTTPClient
public import Engine
public import Multiformats
import NIOCore
import NIOHTTP1

/// The trustless-gateway backend, read side only (spec/remote.md §5, after
/// ipfs/specs src/http-gateways/trustless-gateway.md): existence through
/// `HEAD /ipfs/{cid}?format=raw` with `Cache-Control: only-if-cached`, fetch through
/// `GET ?format=car` (the response's `order` and `dups` honoured) or `?format=raw`.
public final class GatewayBlockHolder: RemoteBlockHolder {
    let http: RemoteHTTP

    public init(address: RemoteAddress, settings: RemoteSettings) {
        http = RemoteHTTP(base: address.baseURL, settings: settings)
    }

    public func close() async { await http.close() }

    /// 200 is present; 404 and 412 (not cached) are absent; anything else is an error.
    public func has(_ cids: [CID]) async throws -> [Bool] {
        var result: [Bool] = []
        for cid in cids {
            try Task.checkCancellation()
            result.append(try await has(cid))
        }
        return result
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

    public func put(_ cids: [CID], root: CID, from blocks: some BlockGetter) async throws -> PutReport {
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
    /// may hold duplicates), and the stream is checked accordingly.
    public func fetch(_ root: CID, scope: FetchScope, into body: @escaping @Sendable (CID, [UInt8]) throws -> Void) async throws {
        let http = self.http, what = "GET /ipfs/\(root)"
        var prepared = http.request("/ipfs/\(root)", method: .GET, query: [
            ("format", "car"), ("dag-scope", scope.rawValue), ("car-version", "1"), ("car-order", "dfs"), ("car-dups", "n"),
        ])
        prepared.headers.add(name: "Accept", value: "application/vnd.ipld.car; version=1; order=dfs; dups=n")
        let request = prepared
        try await http.withDeadline(.seconds(3600), what) {
            let response = try await Self.execute(http, request, what)
            guard response.status == .ok else { throw Self.failure(response.status, what, http.base) }
            let (order, duplicates) = try Self.carParameters(response.headers["Content-Type"].first ?? "")
            let verifier = DAGVerifier(root: root, scope: scope, order: order, duplicates: duplicates)
            try await verifier.consume(response, what, body)
        }
    }

    /// The `order` and `dups` of a CAR response's content type; a version other than 1 is refused.
    static func carParameters(_ contentType: String) throws -> (DAGVerifier.Order, Bool) {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first == "application/vnd.ipld.car" else {
            throw RemoteError(.verification, "the gateway answered '\(contentType)', not a CAR")
        }
        var parameters: [String: String] = [:]
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { parameters[String(pair[0])] = String(pair[1]) }
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
        switch status.code {
        case 401, 403: RemoteError(.unauthorized, "\(base) refused the credentials for \(what) (HTTP \(status.code))")
        case 404: RemoteError(.remote, "\(what): \(base) does not have it (HTTP 404)")
        case 500...599: RemoteError(.remote, "\(what) failed on \(base) (HTTP \(status.code))", transient: true)
        default: RemoteError(.remote, "\(what) failed on \(base) (HTTP \(status.code))")
        }
    }
}

import Foundation
