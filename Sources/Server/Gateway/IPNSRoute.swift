import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Multiformats

extension GatewayResponder {
    /// `/ipns/{name}` (spec/gateway.md §5.3): with `format=ipns-record` (or its Accept type) the
    /// stored signed record, byte for byte; with `raw`/`car`, what the record points to, as for
    /// `/ipfs/`, cached for the record's TTL. Every answer re-checks the record (signature and
    /// validity): an expired one is 404.
    func ipns(_ request: GatewayRequest, path: String, head: Bool, onlyIfCached: Bool, range: String?) async throws -> Response {
        let name: IPNSName
        do { name = try IPNSName(request.root) } catch { throw GatewayError(400, error.message) }
        let records = IPNSRecordStore(layout: store.layout)
        let record = try await store.run { _ -> IPNSRecord in
            guard let bytes = try records.get(name) else { throw GatewayError(404, "no IPNS record for \(name)") }
            do { return try IPNSRecord(validating: bytes, for: name) } catch let error as IPNSError { throw GatewayError(404, error.message) }
        }
        let maxAge = "public, max-age=\(record.ttl / 1_000_000_000)"
        guard request.format != .ipnsRecord else {
            var headers = HTTPFields()
            headers[.contentType] = GatewayRequest.ipnsRecordType
            headers[.contentDisposition] = attachmentDisposition(request.filename ?? "\(name).ipns-record")
            headers[.cacheControl] = maxAge
            headers[.eTag] = "\"\(String(fnv1a(String(decoding: record.bytes, as: UTF8.self)), radix: 36))\""
            headers[.xContentTypeOptions] = "nosniff"
            headers[.vary] = "Accept"
            return body(ByteBuffer(bytes: record.bytes), status: .ok, headers: headers, head: head)
        }
        let parts = record.value.split(separator: "/").map(String.init)
        guard parts.first == "ipfs", parts.count >= 2, let root = try? CID(parts[1]) else {
            throw GatewayError(501, "IPNS record for \(name) points to \(record.value): only /ipfs/ paths are followed")
        }
        var target = request
        target.segments = Array(parts.dropFirst(2)) + request.segments
        var response: Response = try await ipfs(root, target, path: path, head: head, onlyIfCached: onlyIfCached, range: range)
        if response.status == .ok || response.status == .partialContent { response.headers[HTTPField.Name.cacheControl] = maxAge }
        return response
    }
}
