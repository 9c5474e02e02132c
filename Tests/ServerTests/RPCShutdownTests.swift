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

/// The first signal asks for the shutdown only: an upload in flight is read to its end and
/// committed before the process exits 0. A second signal cancels it: nothing of it is stored,
/// and the process still exits 0 (spec/serve.md §2).
@Suite(.serialized) struct ShutdownInFlightTests {
    final class Box: @unchecked Sendable { var result: CurlResult? }

    @Test(arguments: [1, 2])
    func anUploadInFlight(signals: Int) throws {
        let work = try serveDirectory("shutdown-upload")
        defer { try? FileManager.default.removeItem(at: work) }
        let input = work.appendingPathComponent("in.bin").path
        let car = work.appendingPathComponent("in.car").path
        try sm1(3 << 20).write(to: URL(fileURLWithPath: input))
        let added = try CairnProcess.run(["add", "-Q", "--cid-version", "1", "--car", car, input])
        #expect(added.status == 0, "\(added.stderr)")
        let root = added.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let store = work.appendingPathComponent("store").path
        let server = try ServeProcess(store: store)
        // About 3 s at 1 MiB/s: the signals come while the body is still arriving.
        let box = Box(), done = DispatchGroup()
        done.enter()
        DispatchQueue.global().async {
            box.result = try? rpc(server, "dag/import?stats=true&pin-roots=false", ["--limit-rate", "1M", "-F", "file=@\(car)"])
            done.leave()
        }
        Thread.sleep(forTimeInterval: 1.0)
        kill(server.process.processIdentifier, SIGINT)
        if signals == 2 {
            Thread.sleep(forTimeInterval: 0.3)
            kill(server.process.processIdentifier, SIGINT)
        }
        done.wait()
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0, "\(server.stderr)")
        let result = try #require(box.result)
        let stat = try CairnProcess.run(["block", "stat", "--store", store, root])
        if signals == 1 {
            #expect(result.status == 200, "\(String(decoding: result.body, as: UTF8.self))")
            #expect(String(decoding: result.body, as: UTF8.self).contains(#""BlockCount":13"#))
            #expect(stat.status == 0, "\(stat.stderr)")
        } else {
            #expect(result.status != 200)
            #expect(stat.status != 0)
            let counts = try CairnProcess.run(["store", "stat", "--store", store])
            #expect(counts.status == 0 && counts.stdoutText.contains("blocks: 0\n"), "\(counts.stdoutText) \(counts.stderr)")
        }
    }
}
