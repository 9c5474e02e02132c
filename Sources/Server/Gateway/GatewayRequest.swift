import Foundation
import Multiformats

/// A gateway failure: the status it answers with and a one-line message (spec/gateway.md §6).
struct GatewayError: Error, Sendable {
    var status: Int
    var message: String
    init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    /// A UnixFS file node whose declared size (`filesize`, or its data and block sizes added
    /// up) is more than `Int64.max`: malformed (502), whatever is asked of it.
    static func oversized(_ cid: CID) -> GatewayError {
        GatewayError(502, "malformed UnixFS file \(cid): its declared size is larger than any file can be")
    }
}

/// The CAR parameters of a response (spec/gateway.md §3): block order and duplicates.
struct CARParameters: Hashable, Sendable {
    var order = "dfs"
    var duplicates = false

    /// The `Content-Type` that names what is actually sent.
    var contentType: String { "application/vnd.ipld.car; version=1; order=\(order); dups=\(duplicates ? "y" : "n")" }
}

/// What a request asks for.
enum ResponseFormat: Hashable, Sendable {
    case raw
    case car(CARParameters)
    case ipnsRecord
    /// No verifiable type asked for: a UnixFS file's bytes, else 400 (spec/gateway.md §4.3).
    case file
}

/// `dag-scope` (spec/gateway.md §3.2).
enum DAGScope: String, Sendable {
    case block, entity, all
}

/// `entity-bytes=from:to`: inclusive offsets into the terminal file; negative ones count from
/// its end (-1 is the last byte), `*` is the last byte.
struct EntityBytes: Hashable, Sendable {
    var from: Int64
    var to: Int64?  // nil: `*`

    init?(_ text: Substring) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let from = Int64(parts[0]) else { return nil }
        self.from = from
        if parts[1] == "*" { to = nil } else if let to = Int64(parts[1]) { self.to = to } else { return nil }
        if from >= 0, let to, to >= 0, to < from { return nil }
    }

    /// The inclusive byte range in a file of `size` bytes, nil when it selects nothing.
    func resolve(size: UInt64) -> ClosedRange<UInt64>? {
        guard size > 0 else { return nil }
        let last = Int64(clamping: size) - 1
        let start = from >= 0 ? from : max(0, last + 1 + from)
        let end = to.map { $0 >= 0 ? min($0, last) : last + 1 + $0 } ?? last
        guard start <= end, start <= last, end >= 0 else { return nil }
        return UInt64(start)...UInt64(end)
    }
}

/// One media type of an `Accept` header with its parameters.
struct MediaType {
    var type: String
    var parameters: [String: String]

    /// Splits an `Accept` header into its media types, in the order given (q-values ignored
    /// beyond dropping `q=0`).
    static func list(_ header: String) -> [MediaType] {
        header.split(separator: ",").compactMap { item in
            let fields = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = fields.first, !first.isEmpty else { return nil }
            var parameters: [String: String] = [:]
            for field in fields.dropFirst() {
                let pair = field.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2 { parameters[pair[0].lowercased()] = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            }
            if parameters["q"].flatMap(Double.init) == 0 { return nil }
            return MediaType(type: first.lowercased(), parameters: parameters)
        }
    }
}

/// A parsed `/ipfs/…` or `/ipns/…` request: namespace, root, path segments, query and format.
struct GatewayRequest {
    var namespace: String
    /// The CID (for /ipfs/) or the IPNS name, as written.
    var root: String
    var segments: [String]
    var format: ResponseFormat
    var scope: DAGScope
    var entityBytes: EntityBytes?
    var filename: String?
    /// Whether the client is still connected (`ServerRequestContext.isConnected`): long answers
    /// stop once it is gone.
    var isConnected: @Sendable () -> Bool = { true }

    static let rawType = "application/vnd.ipld.raw"
    static let carType = "application/vnd.ipld.car"
    static let ipnsRecordType = "application/vnd.ipfs.ipns-record"

    init(path: String, query: [(String, String)], accept: String?) throws(GatewayError) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard parts.count >= 2, parts.first == "ipfs" || parts.first == "ipns", !parts[parts.startIndex + 1].isEmpty else {
            throw GatewayError(404, "404 page not found")
        }
        namespace = String(parts[parts.startIndex])
        root = String(parts[parts.startIndex + 1])
        var segments: [String] = []
        // Unescaped, then split: boxo resolves the decoded `URL.Path`, where `%2F` is a slash
        // (no UnixFS name holds one), so `a%2Fx` is the two segments `a` and `x`.
        for part in parts.dropFirst(2) where !part.isEmpty {
            guard let decoded = String(part).removingPercentEncoding else {
                throw GatewayError(400, "invalid path segment \"\(part)\"")
            }
            for segment in decoded.split(separator: "/") {
                guard segment != ".", segment != ".." else { throw GatewayError(400, "invalid path segment \"\(part)\"") }
                segments.append(String(segment))
            }
        }
        self.segments = segments
        let parameters = Dictionary(query, uniquingKeysWith: { first, _ in first })
        filename = parameters["filename"]
        format = try GatewayRequest.format(parameters, accept: accept)
        if let text = parameters["dag-scope"] {
            guard let scope = DAGScope(rawValue: text) else { throw GatewayError(400, "invalid dag-scope \"\(text)\" (block, entity or all)") }
            self.scope = scope
        } else {
            scope = .all
        }
        if let text = parameters["entity-bytes"] {
            guard let range = EntityBytes(text[...]) else { throw GatewayError(400, "invalid entity-bytes \"\(text)\" (from:to, to may be *)") }
            entityBytes = range
            scope = .entity
        }
    }

    /// `format=` first, then the first supported `Accept` type; CAR parameters from the query
    /// (`car-version`, `car-order`, `car-dups`) over the Accept parameters of a CAR type.
    private static func format(_ parameters: [String: String], accept: String?) throws(GatewayError) -> ResponseFormat {
        let types = MediaType.list(accept ?? "")
        let known = [rawType, carType, ipnsRecordType]
        let accepted = types.first { known.contains($0.type) }
        let chosen: String
        switch parameters["format"] {
        case "raw"?: chosen = rawType
        case "car"?: chosen = carType
        case "ipns-record"?: chosen = ipnsRecordType
        case nil:
            guard let accepted else { return .file }
            chosen = accepted.type
        case let other?:
            throw GatewayError(400, "unsupported format \"\(other)\" (raw, car or ipns-record)")
        }
        switch chosen {
        case rawType: return .raw
        case ipnsRecordType: return .ipnsRecord
        default:
            var car = CARParameters()
            let fromAccept = types.first { $0.type == carType }?.parameters ?? [:]
            if let version = parameters["car-version"] ?? fromAccept["version"], version != "1" {
                throw GatewayError(400, "unsupported CAR version \(version) (only 1)")
            }
            switch parameters["car-order"] ?? fromAccept["order"] {
            case nil, "dfs"?, "unk"?: car.order = "dfs"
            case let other?: throw GatewayError(400, "unsupported CAR order \"\(other)\" (dfs or unk)")
            }
            switch parameters["car-dups"] ?? fromAccept["dups"] {
            case nil, "n"?: car.duplicates = false
            case "y"?: car.duplicates = true
            case let other?: throw GatewayError(400, "invalid CAR dups \"\(other)\" (y or n)")
            }
            return .car(car)
        }
    }
}

/// One `Range` of a raw block: `bytes=a-b`, `a-` or `-n` (RFC 9110 §14.1.2).
enum ByteRanges {
    /// The satisfiable ranges of `header` over `size` bytes; nil when the header is not a byte
    /// range (it is then ignored), `[]` when none is satisfiable (416).
    static func parse(_ header: String, size: Int) -> [ClosedRange<Int>]? {
        guard header.hasPrefix("bytes=") else { return nil }
        var ranges: [ClosedRange<Int>] = []
        for spec in header.dropFirst(6).split(separator: ",") {
            let parts = spec.trimmingCharacters(in: .whitespaces).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            if parts[0].isEmpty {
                guard let suffix = Int(parts[1]) else { return nil }
                if suffix > 0, size > 0 { ranges.append(max(0, size - suffix)...(size - 1)) }
            } else {
                guard let start = Int(parts[0]) else { return nil }
                let end = parts[1].isEmpty ? size - 1 : Int(parts[1])
                guard let end, end >= start else { return nil }
                if start < size { ranges.append(start...min(end, size - 1)) }
            }
        }
        return ranges
    }
}

/// `Content-Disposition: attachment` with an ASCII `filename` (every other character an
/// underscore) and, for a non-ASCII name, the RFC 5987 `filename*` (spec/gateway.md §4).
func attachmentDisposition(_ name: String) -> String {
    let ascii = String(name.map { $0.isASCII && $0 != "\"" && $0 != "\\" ? $0 : "_" })
    var value = "attachment; filename=\"\(ascii)\""
    if ascii != name {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~")
        let encoded = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? ascii
        value += "; filename*=UTF-8''\(encoded)"
    }
    return value
}
