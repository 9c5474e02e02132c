import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import Multiformats

/// Recorded Kubo RPC answers: status, headers and body as Kubo sends them. Each names the
/// source it was taken from (ipfs/kubo at 0.44.0-dev and ipfs/go-ipfs-cmds, as summarised in
/// shared/reference/ecosystem.md §1).
struct KuboExchanges {
    var status: HTTPResponse.Status
    var headers: [(HTTPField.Name, String)]
    var body: [UInt8]
    var trailerError: String?
    /// Where the exchange comes from.
    var source: String

    /// go-ipfs-cmds http/responseemitter.go: every answer declares the `X-Stream-Error` trailer;
    /// a single value is `application/json`, a channel adds `X-Chunked-Output: 1`.
    static func json(_ text: String, status: HTTPResponse.Status = .ok, chunked: Bool = false, source: String) -> Self {
        var headers: [(HTTPField.Name, String)] = [(.contentType, "application/json"), (HTTPField.Name("Trailer")!, "X-Stream-Error")]
        if chunked { headers.append((HTTPField.Name("X-Chunked-Output")!, "1")) }
        return Self(status: status, headers: headers, body: Array(text.utf8), source: source)
    }

    /// go-ipfs-cmds error.go + http/responseemitter.go: an error before any output is
    /// `{"Message","Code","Type":"error"}`, 500 for Code 0 (ErrNormal).
    static func error(_ message: String, code: Int = 0, source: String) -> Self {
        let escaped = message.replacingOccurrences(of: "\"", with: "\\\"")
        return json("{\"Message\":\"\(escaped)\",\"Code\":\(code),\"Type\":\"error\"}\n",
                    status: code == 1 ? .badRequest : .internalServerError, source: source)
    }

    /// Go's `http.Error`: `text/plain; charset=utf-8`, `X-Content-Type-Options: nosniff`, the text and a newline.
    static func plain(_ status: HTTPResponse.Status, _ text: String, source: String) -> Self {
        Self(status: status, headers: [(.contentType, "text/plain; charset=utf-8"), (HTTPField.Name("X-Content-Type-Options")!, "nosniff")],
             body: Array((text + "\n").utf8), source: source)
    }

    static func version(_ version: String) -> Self {
        json("{\"Version\":\"\(version)\",\"Commit\":\"\",\"Repo\":\"16\",\"System\":\"amd64/linux\",\"Golang\":\"go1.22.4\"}\n",
             source: "ipfs/kubo core/commands/version.go (VersionOutput)")
    }

    static func blockStat(_ cid: CID, size: Int) -> Self {
        json("{\"Key\":\"\(cid)\",\"Size\":\(size)}\n", source: "ipfs/kubo core/commands/block.go (BlockStat)")
    }

    /// ipfs/kubo test/sharness/t0054-dag-car-import-export.sh and t0080-repo.sh: the offline miss.
    static func notFoundLocally(_ cid: CID) -> Self {
        error("block was not found locally (offline): ipld: could not find \(cid)",
              source: "ipfs/kubo test/sharness/t0054-dag-car-import-export.sh")
    }

    static func notPinned(_ cid: CID) -> Self {
        error("path '\(cid)' is not pinned", source: "ipfs/kubo core/commands/pin/pin.go (pinLsKeys)")
    }

    static func pinMissing(_ cid: CID) -> Self {
        error("pin: block was not found locally (offline): ipld: could not find \(cid)",
              source: "ipfs/kubo core/commands/pin/pin.go (pin add of an incomplete DAG, offline)")
    }

    static func internalError(_ message: String) -> Self {
        error(message, source: "go-ipfs-cmds http/responseemitter.go (ErrNormal → 500)")
    }

    static let badArgument = error("invalid path \"\": path does not have enough components", code: 1,
                                   source: "ipfs/kubo core/commands/cmdutils (argument errors are ErrClient → 400)")

    static func pins(_ cid: CID) -> Self {
        json("{\"Pins\":[\"\(cid)\"]}\n", source: "ipfs/kubo core/commands/pin/pin.go (AddPinOutput / PinOutput)")
    }

    static func pinKeys(_ pins: [(cid: CID, name: String)]) -> Self {
        let keys = pins.map { "\"\($0.cid)\":{\"Type\":\"recursive\",\"Name\":\"\($0.name)\"}" }.joined(separator: ",")
        return json("{\"Keys\":{\(keys)}}\n", source: "ipfs/kubo core/commands/pin/pin.go (PinLsOutputWrapper, names=true)")
    }

    static func pinStream(_ pins: [(cid: CID, name: String)], trailerError: String?) -> Self {
        let lines = pins.map { "{\"Cid\":\"\($0.cid)\",\"Name\":\"\($0.name)\",\"Type\":\"recursive\"}\n" }.joined()
        var exchange = json(lines, chunked: true, source: "ipfs/kubo core/commands/pin/pin.go (PinLsObject, stream=true)")
        exchange.trailerError = trailerError
        return exchange
    }

    /// ipfs/kubo core/commands/refs.go `RefsLocalCmd`: one `RefWrapper` per blockstore key,
    /// "CIDv1-Raw CIDs" whatever the block's codec; an error is a line with `Err` set.
    static func localRefs(_ keys: [Multihash], error: String?) -> Self {
        var lines = keys.map { "{\"Ref\":\"\(CID.v1(codec: .raw, multihash: $0))\",\"Err\":\"\"}\n" }
        if let error { lines.append("{\"Ref\":\"\",\"Err\":\"\(error)\"}\n") }
        return json(lines.joined(), chunked: true, source: "ipfs/kubo core/commands/refs.go (RefsLocalCmd, RefWrapper)")
    }

    static func importStats(blocks: Int, bytes: Int) -> Self {
        json("{\"Stats\":{\"BlockCount\":\(blocks),\"BlockBytesCount\":\(bytes)}}\n", chunked: true,
             source: "ipfs/kubo core/commands/dag/dag.go (CarImportOutput, stats=true, pin-roots=false)")
    }

    static func blockPutLines(_ blocks: [(CID, Int)]) -> Self {
        json(blocks.map { "{\"Key\":\"\($0.0)\",\"Size\":\($0.1)}\n" }.joined(), chunked: true,
             source: "ipfs/kubo core/commands/block.go (BlockStat per part of block/put)")
    }

    static func carStream(_ bytes: [UInt8]) -> Self {
        Self(status: .ok, headers: [(.contentType, "application/vnd.ipld.car"), (HTTPField.Name("X-Stream-Output")!, "1"),
                                    (HTTPField.Name("Trailer")!, "X-Stream-Error")],
             body: bytes, source: "ipfs/kubo core/commands/dag/export.go")
    }

    static let accessDenied = plain(.forbidden,
        "Kubo RPC Access Denied: Please provide a valid authorization token as defined in the API.Authorizations configuration.",
        source: "ipfs/kubo core/corehttp/commands.go (withAuthSecrets)")
    static let methodNotAllowed = plain(.methodNotAllowed, "405 - Method Not Allowed", source: "go-ipfs-cmds http/handler.go")
    static let unknownCommand = plain(.notFound, "404 page not found", source: "Go net/http ServeMux (unknown command)")

    func response() -> Response {
        var fields = HTTPFields()
        for (name, value) in headers { fields.append(HTTPField(name: name, value: value)) }
        let body = self.body, trailerError = self.trailerError
        return Response(status: status, headers: fields, body: ResponseBody { writer in
            try await writer.write(ByteBuffer(bytes: body))
            var trailers: HTTPFields? = nil
            if let trailerError { trailers = [HTTPField.Name("X-Stream-Error")!: trailerError] }
            try await writer.finish(trailers)
        })
    }
}
