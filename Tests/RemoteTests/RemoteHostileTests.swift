#if canImport(Glibc)
import Glibc
#endif
import Testing
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import Multiformats
import Remote
import CairnTestSupport

/// What a hostile pass against the client found, each kept from coming back (spec/remote.md
/// §1.2, §2, §3.1): a redirect is reported, never followed; a remote that echoes the
/// credentials back never gets them printed; a `block/stat` 200 counts as present only when
/// it names the block asked for.
@Suite struct RemoteHostileTests {
    /// The error of a one-attempt CAR fetch of `root` from a gateway on `port`.
    static func fetchFailure(_ root: CID, port: Int) async -> RemoteError? {
        var settings = RemoteSettings()
        settings.attempts = 1
        guard let address = try? RemoteAddress(parsing: "gateway+http://127.0.0.1:\(port)") else { return nil }
        let remote = GatewayBlockHolder(address: address, settings: settings)
        defer { Task { await remote.close() } }
        return await #expect(throws: RemoteError.self) { try await remote.fetch(root, scope: .all) { _ in } }
    }

    static func answer(_ status: HTTPResponse.Status, _ text: String, _ headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    @Test func redirectsAreReportedNotFollowed() async throws {
        try await serveOnLoopback("redirecting-node", respond: { _ in
            var headers = HTTPFields()
            headers[.location] = "http://127.0.0.1:1/api/v0/version"
            return Self.answer(.temporaryRedirect, "", headers)
        }) { port in
            let remote = try kubo("http://127.0.0.1:\(port)") { $0.attempts = 1 }
            defer { Task { await remote.close() } }
            let error = await #expect(throws: RemoteError.self) { try await remote.version() }
            #expect(error?.message.contains("answered with a redirect (HTTP 307) to http://127.0.0.1:1/api/v0/version, which is not followed") == true,
                    "\(error?.message ?? "")")
            // The same words from a gateway's CAR answer.
            let root = try CID("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
            let fetchError = await Self.fetchFailure(root, port: port)
            #expect(fetchError?.message.contains("answered with a redirect (HTTP 307) to http://127.0.0.1:1/api/v0/version, which is not followed") == true,
                    "\(fetchError?.message ?? "")")
        }
    }

    /// A node that is not there: "connection refused", the system's words, not NIO's
    /// "connection reset (error set): … (errno: 111)".
    @Test func refusedConnectionIsSaidPlainly() async throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        close(fd)  // bound, never listened: nothing answers on it
        let remote = try kubo("http://127.0.0.1:\(port)") { $0.attempts = 1 }
        defer { Task { await remote.close() } }
        let error = await #expect(throws: RemoteError.self) { try await remote.version() }
        #expect(error?.message == "version: cannot reach http://127.0.0.1:\(port): connection refused", "\(error?.message ?? "")")
        // A name with several addresses (every one refusing): the same words, with the address.
        let named = try kubo("http://localhost:\(port)") { $0.attempts = 1 }
        defer { Task { await named.close() } }
        let namedError = await #expect(throws: RemoteError.self) { try await named.version() }
        let message = namedError?.message ?? ""
        #expect(message.hasPrefix("version: cannot reach http://localhost:\(port): connection refused"), "\(message)")
        #expect(!message.contains("errno") && !message.contains("NIOConnectionError"), "\(message)")
    }

    @Test(arguments: ["bearer:TOPSECRET-token", "basic:alice:SECRETPW"])
    func echoedCredentialsAreNeverShown(_ credentials: String) async throws {
        try await serveOnLoopback("echoing-node", respond: { request in
            let echoed = request.headers[.authorization] ?? ""
            return Self.answer(.internalServerError, "{\"Message\":\"bad header: \(echoed)\",\"Code\":0,\"Type\":\"error\"}")
        }) { port in
            let remote = try kubo("http://127.0.0.1:\(port)") { $0.auth = try? RemoteAuth(parsing: credentials); $0.attempts = 1 }
            defer { Task { await remote.close() } }
            let error = await #expect(throws: RemoteError.self) { try await remote.version() }
            let message = error?.message ?? ""
            let secret = String(credentials.split(separator: ":").last!)
            #expect(!message.contains(secret), "\(message)")
            #expect(!message.contains(Data("alice:SECRETPW".utf8).base64EncodedString()), "\(message)")
            #expect(message.contains("<credentials hidden>"), "\(message)")
        }
        // A URL with USER:PASSWORD@ is refused without repeating them.
        let refused = #expect(throws: RemoteError.self) { try RemoteAddress(parsing: "http://alice:SECRETPW@127.0.0.1:5001") }
        #expect(refused?.message.contains("SECRETPW") == false)
    }

    /// A `pin/ls` listing that repeats one line 50 000 times gives that pin once; one naming
    /// more than 100 000 distinct pins is an error, not a list without bound.
    @Test func namedPinListingsAreBounded() async throws {
        let one = "{\"Cid\":\"bafkqaaa\",\"Name\":\"cache\",\"Type\":\"recursive\"}\n"
            + "{\"Cid\":\"bafkqaaik\",\"Name\":\"cache\",\"Type\":\"indirect\"}\n"  // not a pin of its own: left out
        let many = (0..<100_001).map { index -> String in
            let cid = CID.v1(codec: .raw, multihash: try! Multihash(code: .identity, digest: Array("pin-\(index)".utf8)))
            return "{\"Cid\":\"\(cid)\",\"Name\":\"cache\",\"Type\":\"recursive\"}\n"
        }.joined()
        for (listing, distinct) in [(String(repeating: one, count: 50_000), false), (many, true)] {
            try await serveOnLoopback("listing-node", respond: { request in
                if request.uri.path.hasSuffix("/version") { return KuboExchanges.version("0.30.0").response() }
                return Self.answer(.ok, listing)
            }) { port in
                let remote = try kubo("http://127.0.0.1:\(port)") { $0.attempts = 1 }
                defer { Task { await remote.close() } }
                if distinct {
                    let error = await #expect(throws: RemoteError.self) { try await remote.pins("cache") }
                    #expect(error?.message.contains("lists more than 100000 pins named 'cache'") == true, "\(error?.message ?? "")")
                } else {
                    #expect(try await remote.pins("cache").map(\.cid.description) == ["bafkqaaa"])
                }
            }
        }
    }

    /// A gateway that breaks off its CAR mid-answer: one `Error:` line naming the failure of
    /// the connection, not the HTTP parser's bare text.
    @Test func brokenOffCARIsNamedAsSuch() async throws {
        struct BrokenOff: Error {}
        let root = try CID("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
        try await serveOnLoopback("breaking-gateway", respond: { _ in
            Response(status: .ok, headers: [.contentType: "application/vnd.ipld.car; version=1; order=dfs; dups=n"],
                     body: ResponseBody { writer in
                         try await writer.write(ByteBuffer(bytes: [0x0a, 0xa1, 0x67, 0x76]))  // the start of a header
                         throw BrokenOff()
                     })
        }) { port in
            let error = await Self.fetchFailure(root, port: port)
            let message = error?.message ?? ""
            #expect(message.hasPrefix("GET /ipfs/\(root): "), "\(message)")
            #expect(message.contains("broke off or garbled its answer") || message.contains("failed mid-answer"), "\(message)")
        }
    }

    /// A 200 from `block/stat` that is not Kubo's `{"Key","Size"}` for the block asked for is
    /// an error, never "present" (which would skip the block's upload).
    @Test(arguments: ["{\"Key\":\"bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy\",\"Size\":1}", "garbage", ""])
    func blockStatMustNameTheBlock(_ body: String) async throws {
        let asked = try CID("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
        try await serveOnLoopback("lying-node", respond: { _ in Self.answer(.ok, body) }) { port in
            let remote = try kubo("http://127.0.0.1:\(port)") { $0.attempts = 1 }
            defer { Task { await remote.close() } }
            let error = await #expect(throws: RemoteError.self) { try await remote.has([asked]) }
            #expect(error?.message.contains("when asked for \(asked)") == true, "\(error?.message ?? "")")
        }
    }

    /// `block/stat` answered a byte at a time (each within the read timeout): the call still
    /// ends at its deadline (a hostile pass saw a push with `--timeout 3s` run for minutes). The
    /// same for an error answer: a 500 whose body drips past the deadline is the deadline's
    /// error (it read as "failed (HTTP 500)" with no text, after every retry).
    @Test(arguments: [true, false])
    func aDrippingAnswerEndsAtTheDeadline(success: Bool) async throws {
        let asked = try CID("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
        let body = Array((success ? "{\"Key\":\"\(asked)\",\"Size\":1}" : #"{"Message":"blockservice: key not found locally","Code":0,"Type":"error"}"#).utf8)
        try await serveOnLoopback("dripping-node", respond: { _ in
            Response(status: success ? .ok : .internalServerError, headers: [.contentType: "application/json"], body: ResponseBody { writer in
                for byte in body {
                    try await writer.write(ByteBuffer(bytes: [byte]))
                    try await Task.sleep(for: .milliseconds(250))
                }
                try await writer.finish(nil)
            })
        }) { port in
            let remote = try kubo("http://127.0.0.1:\(port)") { $0.attempts = 1; $0.callTimeout = .seconds(2) }
            defer { Task { await remote.close() } }
            let error = await #expect(throws: RemoteError.self) { try await remote.has([asked]) }
            #expect(error?.code == .unreachable)
            #expect(error?.message.contains("no complete answer from") == true, "\(error?.message ?? "")")
        }
    }

    /// The Cluster's `/allocations` as one array is read a pin at a time: names holding braces,
    /// brackets and escaped quotes split right, 200 000 spaces before the array cost nothing
    /// (each byte rechecked the line: 10 s), and an array cut short is an error.
    @Test func clusterAllocationsArraysAreSplitAsTheyCome() async throws {
        let a = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
        let b = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
        let tricky = #"c}]{\"["#
        let body = String(repeating: " ", count: 200_000) + "[ {\"cid\":\"\(a)\",\"name\":\"\(tricky)\",\"max_depth\":-1},\n"
            + "{\"cid\":\"\(b)\",\"name\":\"other\",\"allocations\":[{\"x\":[1,2]}]} ,{\"cid\":\"\(b)\",\"name\":\"c}]{\\\"[\"} ]\n"
        for (answer, complete) in [(body, true), (String(body.dropLast(3)), false)] {
            try await serveOnLoopback("cluster-array", respond: { _ in Self.answer(.ok, answer) }) { port in
                let remote = try ClusterTests.cluster("cluster+http://127.0.0.1:\(port)", proxy: "http://127.0.0.1:\(port)") { $0.attempts = 1 }
                defer { Task { await remote.close() } }
                if complete {
                    let pins = try await remote.pins("c}]{\"[")
                    #expect(pins.map(\.cid.description) == [a, b], "\(pins)")
                } else {
                    let error = await #expect(throws: RemoteError.self) { _ = try await remote.pins("x") }
                    #expect(error?.message.contains("ends inside its array") == true, "\(error?.message ?? "")")
                }
            }
        }
    }

    /// A node that answers `dag/export` with `102 Processing` again and again: the answer must
    /// begin within the call's deadline (the stream's hour starts after its status line; a
    /// hostile pass saw a fetch with `--timeout 3s` held for minutes).
    @Test func endlessInformationalAnswersEndAtTheCallDeadline() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 8) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        try #require(listener >= 0 && bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let stop = ManagedAtomicFlag()
        let server = Thread {
            while !stop.isSet, case let client = accept(listener, nil, nil), client >= 0 {
                Thread {
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    _ = read(client, &buffer, buffer.count)
                    let line = Array("HTTP/1.1 102 Processing\r\n\r\n".utf8)
                    for _ in 0..<50 where !stop.isSet {
                        guard write(client, line, line.count) == line.count else { break }
                        usleep(200_000)
                    }
                    close(client)
                }.start()
            }
        }
        server.start()
        defer { stop.set(); shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
        let remote = try kubo("http://127.0.0.1:\(port)") { $0.attempts = 1; $0.callTimeout = .seconds(1) }
        defer { Task { await remote.close() } }
        let root = try CID("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
        let error = await #expect(throws: RemoteError.self) { try await remote.fetch(root, scope: .all) { _ in } }
        #expect(error?.code == .unreachable, "\(error?.message ?? "")")
        #expect(error?.message.contains("no answer from") == true, "\(error?.message ?? "")")
    }
}

extension RemoteHostileTests {
    /// One-value answers are bounded far below the general 16 MiB: a `version` padded to
    /// 100 KiB is refused, not decoded (answers padded near 16 MiB cost ten times that).
    @Test func paddedVersionAnswersAreRefused() async throws {
        let padded = "{\"Version\":\"0.30.0\"" + String(repeating: " ", count: 100 << 10) + "}"
        try await serveOnLoopback("padded-node", respond: { _ in Self.answer(.ok, padded) }) { port in
            let remote = try kubo("http://127.0.0.1:\(port)") { $0.attempts = 1 }
            defer { Task { await remote.close() } }
            let error = await #expect(throws: RemoteError.self) { try await remote.checkCanPin(name: "x") }
            #expect(error?.message.contains("larger than 65536 bytes") == true, "\(error?.message ?? "")")
        }
    }
}

extension RemoteHostileTests {
    /// A CAR whose header is not a CARv1 header (`varint(5) "hello"`, an empty map) is
    /// refused before any block is taken.
    @Test(arguments: [[0x05] + Array("hello".utf8), [0x01, 0xa0]])
    func aCARHeaderMustBeOne(_ header: [UInt8]) async throws {
        let root = try CID("bafkqaaa")
        try await serveOnLoopback("bad-header-gateway", respond: { _ in
            Response(status: .ok, headers: [.contentType: "application/vnd.ipld.car; version=1; order=dfs; dups=n"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: header)))
        }) { port in
            let error = await Self.fetchFailure(root, port: port)
            #expect(error?.message.contains("is not a CARv1 header") == true, "\(error?.message ?? "")")
        }
    }
}

/// A flag set once, read from any thread.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
