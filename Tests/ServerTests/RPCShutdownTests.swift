import Testing
import Foundation
import CairnTestSupport

/// SIGINT and SIGTERM end `cairn serve` gracefully (spec/serve.md §2): Kubo's log line on
/// stderr, exit status 0, no error noise.
@Suite(.serialized) struct RPCShutdownTests {
    @Test(arguments: [SIGINT, SIGTERM])
    func gracefulShutdown(signal: Int32) throws {
        let work = try serveDirectory("shutdown")
        defer { try? FileManager.default.removeItem(at: work) }
        let server = try ServeProcess(store: work.appendingPathComponent("store").path)
        #expect(try rpc(server, "version").status == 200)
        #expect(server.stop(signal: signal) == 0)
        let log = server.stderr
        #expect(log.contains("Received interrupt signal, shutting down..."), "\(log)")
        #expect(!log.lowercased().contains("error"), "\(log)")
    }
}
