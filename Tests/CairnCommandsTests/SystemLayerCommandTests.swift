import CairnTestSupport
import Foundation
import Testing

/// The system layer seen from the CLI (spec/system.md): fault injection through `CAIRN_FAULT`
/// and the thread-count policy under a CPU affinity mask.
@Suite("system layer through cairn")
struct SystemLayerCommandTests {
    @Test func failedDataSyncIsOneLineAndTheStoreStillVerifies() throws {
        let sandbox = try StoreSandbox()
        defer { sandbox.cleanup() }
        let first = try sandbox.write("first", SplitMix64.bytes(seed: 31, count: 3 << 20))
        let second = try sandbox.write("second", SplitMix64.bytes(seed: 32, count: 3 << 20))
        // A store with committed content, so the failing add continues an existing pack.
        let added = try sandbox.cairn(["add", "-Q", first])
        try #require(added.status == 0, "\(added.stderr)")
        let failed = try CairnProcess.run(["add", second, "--store", sandbox.store],
                                          environment: ["CAIRN_FAULT": "fdatasync:1:EIO"])
        #expect(failed.status == 1)
        let lines = failed.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "\(failed.stderr)")
        #expect(failed.stderr.hasPrefix("Error: cannot sync \(sandbox.store)/packs/"), "\(failed.stderr)")
        #expect(failed.stderr.hasSuffix(": Input/output error\n"), "\(failed.stderr)")
        #expect(failed.stdoutText.isEmpty)
        let verify = try sandbox.cairn(["store", "verify"])
        #expect(verify.status == 0, "\(verify.stdoutText)\(verify.stderr)")
        // The first file is still there and readable; the second was not committed.
        let root = added.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let cat = try sandbox.cairn(["cat", root])
        #expect(cat.status == 0 && [UInt8](cat.stdout) == SplitMix64.bytes(seed: 31, count: 3 << 20))
        // An injected EINTR on every kind is invisible.
        let retried = try CairnProcess.run(["add", "-Q", second, "--store", sandbox.store],
                                           environment: ["CAIRN_FAULT": "open:1:EINTR,read:1:EINTR,write:1:EINTR,fdatasync:1:EINTR,fsync:1:EINTR"])
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(retried.stderr.isEmpty)
    }

    @Test func defaultThreadCountFollowsTheAffinityMask() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset") else { return }
        let binary = try #require(CairnProcess.binary)
        func threads(_ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
            process.arguments = ["-c", "0", binary.path, "bench", "hash", "--kernel", "portable",
                                 "--size", "4096", "--total", "4096"] + arguments
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            return text
        }
        // Pinned to one processor, the default is one thread; --threads still wins.
        #expect(try threads([]).contains("1 buffers of 4096 bytes, 1 thread(s)"))
        #expect(try threads(["--threads", "3"]).contains("1 buffers of 4096 bytes, 3 thread(s)"))
    }
}
