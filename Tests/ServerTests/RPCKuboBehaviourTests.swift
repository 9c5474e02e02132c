import Testing
import Foundation
import CairnTestSupport

/// Kubo behaviours beyond the dialect itself: `timeout` enforced, `Expect: 100-continue`,
/// `pin/add` progress, and `dag/import` of an incomplete DAG with `pin-roots`
/// (spec/serve.md §4, §5).
@Suite(.serialized) struct RPCKuboBehaviourTests {
    /// Framing as Kubo's: go-ipfs-cmds declares `Trailer: X-Stream-Error` on every answer and
    /// flushes after each value (http/responseemitter.go `doPreamble`, `Emit`), and Go's server
    /// then never sends a `Content-Length` (net/http `chunkWriter.writeHeader`: no length is
    /// computed for an answer that declares trailers), so a single value, NDJSON values and a
    /// JSON error before any output are all chunked; a plain-text answer from outside cmds
    /// (Kubo's 404 for an unknown command) has its length.
    @Test func cmdsAnswersAreChunkedLikeKubos() throws {
        try withServeProcess("framing-kubo") { work, server in
            let absent = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
            let cases: [(request: String, status: String, chunked: Bool)] = [
                ("version", "200", true),                      // cmds.EmitOnce
                ("refs/local", "200", true),                   // values, none here
                ("block/stat?arg=\(absent)&offline=true", "500", true),  // JSON error before output
                ("no/such/command", "404", false),              // plain text, outside cmds
            ]
            for (request, status, chunked) in cases {
                let answer = try rawExchange(port: server.port, send: "POST /api/v0/\(request) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
                let head = String(answer[..<(answer.range(of: "\r\n\r\n")?.lowerBound ?? answer.endIndex)]).lowercased()
                #expect(head.hasPrefix("http/1.1 \(status)"), "\(request): \(head)")
                #expect(head.contains("transfer-encoding: chunked") == chunked, "\(request): \(head)")
                #expect(head.contains("\r\ncontent-length:") == !chunked, "\(request): \(head)")
                #expect(head.contains("trailer: x-stream-error") == chunked, "\(request): \(head)")
            }
            let version = try rawExchange(port: server.port, send: "POST /api/v0/version HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
            let body = String(version[(version.range(of: "\r\n\r\n")?.upperBound ?? version.endIndex)...])
            #expect(jsonLines(body).first?["Version"] as? String == "0.32.0", "\(body)")
        }
    }

    /// A `block/put` whose body stalls past its `timeout=300ms`: go-ipfs-cmds runs the command
    /// under a context with that deadline, so Kubo answers Go's `context deadline exceeded`
    /// (500, Code 0). Nothing is stored and the server still serves.
    @Test func timeoutIsEnforced() throws {
        let work = try serveDirectory("timeout")
        defer { try? FileManager.default.removeItem(at: work) }
        let server = try ServeProcess(store: work.appendingPathComponent("store").path)
        defer { server.stop() }
        let head = "POST /api/v0/block/put?timeout=300ms HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 100000\r\n\r\n"
            + "--XyZ\r\nContent-Type: application/octet-stream\r\n\r\nthe first bytes of a block that never ends"
        let answer = try rawExchange(port: server.port, send: head)
        #expect(answer.hasPrefix("HTTP/1.1 500"), "\(answer)")
        let body = String(answer[(answer.range(of: "\r\n\r\n")?.upperBound ?? answer.endIndex)...])
        let object = jsonLines(body).first
        #expect(object?["Message"] as? String == "context deadline exceeded", "\(answer)")
        #expect(object?["Code"] as? Int == 0 && object?["Type"] as? String == "error")
        #expect(try rpc(server, "refs/local").text.isEmpty)
        // A command that ends in time is unaffected.
        let one = work.appendingPathComponent("one")
        try sm1(1).write(to: one)
        let put = try rpc(server, "block/put?timeout=30s", ["-F", "file=@\(one.path)"])
        #expect(put.status == 200 && jsonLines(put.text).first?["Key"] as? String == RPCProtocolTests.rawSM1One)
    }

    /// curl's `Expect: 100-continue`: the server sends the interim 100 (curl's head dump shows
    /// it) instead of leaving curl to time out and send the body anyway.
    @Test func expectContinueGetsA100() throws {
        let work = try serveDirectory("continue")
        defer { try? FileManager.default.removeItem(at: work) }
        let server = try ServeProcess(store: work.appendingPathComponent("store").path)
        defer { server.stop() }
        let page = work.appendingPathComponent("page")
        try sm1(4096).write(to: page)
        let dump = work.appendingPathComponent("dump").path
        let put = try curl(["-X", "POST", "-H", "Expect: 100-continue", "--trace-ascii", dump,
                            "-F", "file=@\(page.path)", "\(server.url)/api/v0/block/put"])
        #expect(put.status == 200 && jsonLines(put.text).first?["Key"] as? String == RPCProtocolTests.rawSM1Page)
        let trace = (try? String(contentsOfFile: dump, encoding: .utf8)) ?? ""
        #expect(trace.contains("HTTP/1.1 100 Continue"), "\(trace.prefix(2000))")
        // Over the body limit: no 100, the 413 comes before the body.
        let limited = try ServeProcess(store: work.appendingPathComponent("store2").path, extra: ["--max-body-bytes", "1000"])
        defer { limited.stop() }
        let refused = try curl(["-X", "POST", "-H", "Expect: 100-continue", "--trace-ascii", dump,
                                "-F", "file=@\(page.path)", "\(limited.url)/api/v0/block/put"])
        #expect(refused.status == 413)
        let refusedTrace = (try? String(contentsOfFile: dump, encoding: .utf8)) ?? ""
        #expect(!refusedTrace.contains("HTTP/1.1 100 Continue"))
    }

    /// `pin/add?progress=true` (Kubo core/commands/pin/pin.go): `{"Progress":N}` with the nodes
    /// its recursive pin walked, then `{"Pins":[…]}`. sm1_262145 with Kubo's defaults is two
    /// leaves and a root (cids.tsv), so N is 3; a direct pin walks nothing.
    @Test func pinAddProgress() throws {
        let work = try serveDirectory("progress")
        defer { try? FileManager.default.removeItem(at: work) }
        let server = try ServeProcess(store: work.appendingPathComponent("store").path)
        defer { server.stop() }
        let file = work.appendingPathComponent("file.bin")
        try sm1(262_145).write(to: file)
        let added = jsonLines(try rpc(server, "add?pin=false", ["-F", "file=@\(file.path)"]).text)
        #expect(added.last?["Hash"] as? String == RPCProtocolTests.fileRoot)
        let pinned = try rpc(server, "pin/add?arg=\(RPCProtocolTests.fileRoot)&progress=true")
        #expect(pinned.status == 200 && pinned.headers["x-chunked-output"] == "1")
        let lines = jsonLines(pinned.text)
        #expect(lines.count == 2, "\(pinned.text)")
        #expect(lines.first?["Progress"] as? Int == 3 && lines.first?["Pins"] == nil)
        #expect(lines.last?["Pins"] as? [String] == [RPCProtocolTests.fileRoot])
        let one = work.appendingPathComponent("one")
        try sm1(1).write(to: one)
        #expect(try rpc(server, "block/put", ["-F", "file=@\(one.path)"]).status == 200)
        let direct = jsonLines(try rpc(server, "pin/add?arg=\(RPCProtocolTests.rawSM1One)&recursive=false&progress=true").text)
        #expect(direct.count == 1 && direct.first?["Pins"] as? [String] == [RPCProtocolTests.rawSM1One], "\(direct)")
    }

    /// `dag/import` of the conformance fixture with missing blocks, `pin-roots` on: Kubo stores
    /// the blocks, reports the root's pin failure in `PinErrorMsg` (ecosystem.md §1: "block was
    /// not found locally (offline): ipld: could not find <cid>") and ends with
    /// `unable to pin all roots: 1 out of 1 failed` (core/commands/dag/import.go).
    @Test func importOfAnIncompleteDAGWithPinRoots() throws {
        let work = try serveDirectory("incomplete")
        defer { try? FileManager.default.removeItem(at: work) }
        let server = try ServeProcess(store: work.appendingPathComponent("store").path)
        defer { server.stop() }
        let incomplete = Vectors.directory.appendingPathComponent("gateway-conformance/file-3k-and-3-blocks-missing-block.car")
        let listed = try CairnProcess.run(["car", "ls", incomplete.path])
        try #require(listed.status == 0)
        let inCAR = Set(listed.stdoutText.split(separator: "\n").map { String($0.split(whereSeparator: { $0 == " " || $0 == "\t" })[0]) })

        let answer = try rpc(server, "dag/import?stats=true", ["-F", "file=@\(incomplete.path)"])
        #expect(answer.status == 200)
        #expect(answer.headers["x-stream-error"] == "unable to pin all roots: 1 out of 1 failed", "\(answer.headers)")
        let lines = jsonLines(answer.text)
        #expect(lines.count == 1, "no stats line after a failed pin: \(answer.text)")
        let root = lines.first?["Root"] as? [String: Any]
        #expect((root?["Cid"] as? [String: Any])?["/"] as? String == GatewayConformanceTests.missing)
        let message = root?["PinErrorMsg"] as? String ?? ""
        let prefix = "block was not found locally (offline): ipld: could not find "
        #expect(message.hasPrefix(prefix), "\(message)")
        #expect(!inCAR.contains(String(message.dropFirst(prefix.count))), "the CID named is one the CAR lacks")
        // The blocks are stored, the root is not pinned.
        let refs = Set(jsonLines(try rpc(server, "refs/local").text).compactMap { $0["Ref"] as? String })
        #expect(refs == inCAR)
        #expect(jsonLines(try rpc(server, "pin/ls?type=recursive&stream=true").text).isEmpty)
        // Reading the DAG meets the missing block in the same words (serve.md §5.2), before the
        // first byte (an error answer) or after (the trailer), wherever in the DAG it is.
        for command in ["cat", "dag/export"] {
            let read = try rpc(server, "\(command)?arg=\(GatewayConformanceTests.missing)")
            let said = read.headers["x-stream-error"] ?? (jsonLines(read.text).first?["Message"] as? String ?? "")
            #expect(said.hasPrefix(prefix) && !inCAR.contains(String(said.dropFirst(prefix.count))), "\(command): \(said)")
        }
        // A complete CAR still pins and reports its stats.
        let file = work.appendingPathComponent("file.bin")
        try sm1(262_145).write(to: file)
        let car = work.appendingPathComponent("file.car")
        try #require(try CairnProcess.run(["add", "--car", car.path, file.path]).status == 0)
        let good = try rpc(server, "dag/import?stats=true", ["-F", "file=@\(car.path)"])
        #expect(good.status == 200 && good.headers["x-stream-error"] == nil)
        #expect(((jsonLines(good.text).first?["Root"] as? [String: Any])?["PinErrorMsg"] as? String) == "")
        #expect((jsonLines(good.text).last?["Stats"] as? [String: Any])?["BlockCount"] as? Int == 3)
    }
}

/// Sends `text` on a fresh connection to 127.0.0.1:`port` (the rest of the request never
/// comes) and returns what the server answers: the head, a blank line and the body, up to its
/// `Content-Length`, or a chunked body up to its last chunk, given without the chunk framing
/// (reads give up after 20 s).
func rawExchange(port: Int, send text: String) throws -> String {
    let socketFD = try loopbackConnection(port: port)
    defer { close(socketFD) }
    let bytes = Array(text.utf8)
    guard bytes.withUnsafeBytes({ Glibc.send(socketFD, $0.baseAddress, $0.count, 0) }) == bytes.count else {
        throw ServeTestError("send failed")
    }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(socketFD, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { break }
        received += buffer[0..<count]
        let answer = String(decoding: received, as: UTF8.self)
        if let end = answer.range(of: "\r\n\r\n") {
            let head = answer[..<end.lowerBound].lowercased()
            let body = String(answer[end.upperBound...])
            if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
               let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)),
               body.utf8.count >= length {
                return answer
            }
            if head.contains("transfer-encoding: chunked"), let decoded = dechunked(body) {
                return String(answer[..<end.upperBound]) + decoded
            }
        }
    }
    return String(decoding: received, as: UTF8.self)
}

/// The bytes of a complete chunked body (RFC 9112 §7.1), or nil while its last chunk and
/// trailer section have not all arrived.
func dechunked(_ body: String) -> String? {
    var rest = Substring(body)
    var decoded = ""
    while let lineEnd = rest.range(of: "\r\n") {
        guard let size = Int(rest[..<lineEnd.lowerBound].split(separator: ";").first ?? "", radix: 16) else { return nil }
        rest = rest[lineEnd.upperBound...]
        if size == 0 {
            // Trailer fields, each ending in CRLF, then an empty line.
            return rest.hasPrefix("\r\n") || rest.contains("\r\n\r\n") ? decoded : nil
        }
        guard rest.utf8.count >= size + 2 else { return nil }
        let data = rest.utf8.prefix(size)
        decoded += String(decoding: data, as: UTF8.self)
        rest = Substring(rest.utf8.dropFirst(size + 2))
    }
    return nil
}
