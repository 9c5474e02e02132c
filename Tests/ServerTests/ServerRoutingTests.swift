import Testing
import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Server
import BlockStore
import CairnTestSupport

/// Kubo's routing answers (ecosystem.md §1): POST only under /api/v0/, 405 for other methods,
/// a plain-text 404 for unknown commands; a non-loopback listener needs an auth file.
@Suite struct ServerRoutingTests {
    @Test func methodsAndUnknownCommands() async throws {
        try await withTestServer { api, _ in
            // A generous deadline: in the full parallel suite, tests that wait on processes can
            // hold the cooperative threads this in-process server answers on for many seconds.
            let client = HTTPClient.shared
            var get = HTTPClientRequest(url: "http://\(api)/api/v0/version")
            get.method = .GET
            let refused = try await client.execute(get, timeout: .seconds(120))
            #expect(refused.status == .methodNotAllowed)

            var unknown = HTTPClientRequest(url: "http://\(api)/api/v0/no/such/command")
            unknown.method = .POST
            let missing = try await client.execute(unknown, timeout: .seconds(120))
            #expect(missing.status == .notFound)
            let body = try await missing.body.collect(upTo: 1024)
            #expect(String(buffer: body) == "404 page not found\n")
        }
    }

    @Test func nonLoopbackNeedsAnAuthFile() throws {
        let store = StoreLayout(root: "/nonexistent-cairn-store")
        let configuration = ServerConfiguration(
            store: store, api: ListenAddress(host: "0.0.0.0", port: 5001), gateway: nil)
        let error = #expect(throws: ServerError.self) { try CairnServer(configuration: configuration) }
        #expect(error?.code == .unauthenticated && error?.message.contains("--auth-file") == true)
        var allowed = configuration
        allowed.allowUnauthenticated = true
        #expect(throws: Never.self) { try CairnServer(configuration: allowed) }
    }

    /// A port already taken (here by another server; in life a Kubo daemon on 5001) is one
    /// clear error before anything starts, in the library and at the CLI (spec/serve.md §1).
    @Test func portInUseIsOneClearError() async throws {
        try await withTestServer { api, _ in
            let port = try #require(api.split(separator: ":").last.flatMap { Int($0) })
            let expected = "cannot listen on 127.0.0.1:\(port) for the RPC API: address already in use"
            let directory = try makeTemporaryDirectory("serve-busy")
            defer { try? FileManager.default.removeItem(at: directory) }
            let configuration = ServerConfiguration(
                store: StoreLayout(root: directory.path + "/store"),
                api: ListenAddress(host: "127.0.0.1", port: port),
                gateway: ListenAddress(host: "127.0.0.1", port: 0))
            let server = try CairnServer(configuration: configuration)
            let error = await #expect(throws: ServerError.self) {
                try await runUntilDone(server, listeners: 2) { _ in Issue.record("a server started on a port in use") }
            }
            #expect(error?.code == .listen)
            #expect(error?.message == expected)

            // The CLI: exit 1, that one line on stderr, nothing on stdout (no listener started).
            let process = Process()
            process.executableURL = try #require(CairnProcess.binary)
            process.arguments = ["serve", "--store", directory.path + "/cli-store",
                                 "--api", "127.0.0.1:\(port)", "--gateway", "127.0.0.1:0"]
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning {
                process.terminate()
                Issue.record("cairn serve kept running on a port in use")
            }
            process.waitUntilExit()
            let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 1)
            #expect(stderr == "Error: \(expected)\n")
            #expect(stdout.isEmpty)
        }
    }

    @Test(arguments: [
        ("127.0.0.1:5001", "127.0.0.1", 5001), ("/ip4/127.0.0.1/tcp/0", "127.0.0.1", 0),
        ("[::1]:8080", "::1", 8080), ("localhost:80", "localhost", 80),
    ])
    func listenAddresses(text: String, host: String, port: Int) {
        #expect(ListenAddress(parsing: text) == ListenAddress(host: host, port: port))
    }

    @Test(arguments: ["", "5001", "127.0.0.1", "127.0.0.1:x", "127.0.0.1:70000", "/ip4/127.0.0.1/udp/1"])
    func badListenAddresses(text: String) {
        #expect(ListenAddress(parsing: text) == nil)
    }
}

/// Runs a server on free loopback ports over a fresh temporary store, calls `body` with the
/// RPC and gateway `HOST:PORT`, then shuts the server down and removes the store.
func withTestServer(
    readOnly: Bool = false,
    _ body: @Sendable (String, String) async throws -> Void
) async throws {
    // On threads of its own, like withGateway (DedicatedExecutor).
    try await withTaskExecutorPreference(DedicatedExecutor.shared) {
        let directory = try makeTemporaryDirectory("serve")
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = ServerConfiguration(
            store: StoreLayout(root: directory.path + "/store"),
            api: ListenAddress(host: "127.0.0.1", port: 0),
            gateway: ListenAddress(host: "127.0.0.1", port: 0),
            readOnly: readOnly)
        let server = try CairnServer(configuration: configuration)
        try await runUntilDone(server, listeners: 2) { addresses in
            try await body(addresses["api"]?.description ?? "", addresses["gateway"]?.description ?? "")
        }
    }
}
