import CairnSystem
import CairnTestSupport
import Foundation
import Testing

/// The one system-call helper: EINTR retried, errno mapped to a `SystemError` with the call's
/// name and path, and the `CAIRN_FAULT` plan counting calls per kind (spec/system.md).
@Suite struct SystemCallTests {
    @Test func interruptedCallIsRetried() throws {
        var calls = 0
        let result = try SystemCall.retrying(nil, "write", path: "/x/y") { () -> Int in
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 42
        }
        #expect(result == 42)
        #expect(calls == 3)
    }

    @Test func errnoBecomesAOneLineError() {
        #expect(throws: SystemError(code: ENOSPC, call: "write", path: "/x/y")) {
            _ = try SystemCall.retrying(nil, "write", path: "/x/y") { () -> Int in
                errno = ENOSPC
                return -1
            }
        }
        // The wording is strerror's (glibc's text for ENOSPC).
        let error = SystemError(code: ENOSPC, call: "write", path: "/x/y")
        #expect(error.description == "cannot write /x/y: No space left on device")
        #expect(SystemError(code: EIO, call: "fdatasync", path: "/s/p").description == "cannot sync /s/p: Input/output error")
    }

    @Test func realFailureNamesTheCallAndThePath() throws {
        let directory = try makeTemporaryDirectory("syscall")
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("missing/file").path
        #expect(throws: SystemError(code: ENOENT, call: "open", path: missing)) {
            _ = try SystemCall.open(missing, O_RDONLY)
        }
        #expect(SystemError(code: ENOENT, call: "open", path: missing).description
                == "cannot open \(missing): No such file or directory")
    }

    @Test func writeAllThenReadBackThroughTheHelper() throws {
        let directory = try makeTemporaryDirectory("syscall")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("f").path
        let bytes = SplitMix64.bytes(seed: 7, count: 100_003)
        let fd = try SystemCall.open(path, O_RDWR | O_CREAT | O_TRUNC)
        defer { SystemCall.close(fd) }
        try bytes.withUnsafeBytes { try SystemCall.writeAll(fd, $0, path: path) }
        try SystemCall.fdatasync(fd, path: path)
        var back = [UInt8](repeating: 0, count: bytes.count + 10)
        let count = try back.withUnsafeMutableBytes { try SystemCall.preadFull(fd, $0, at: 0, path: path) }
        #expect(count == bytes.count)
        #expect(Array(back[0..<count]) == bytes)
    }

    @Test func faultPlanParses() throws {
        let plan = try FaultPlan(parsing: "write:3:ENOSPC,fdatasync:1:EIO,pread:2:4")
        #expect(plan.rules == [
            FaultPlan.Rule(kind: .write, call: 3, code: ENOSPC),
            FaultPlan.Rule(kind: .fdatasync, call: 1, code: EIO),
            FaultPlan.Rule(kind: .read, call: 2, code: EINTR),   // EINTR is 4 on Linux
        ])
        for bad in ["write", "write:0:EIO", "chmod:1:EIO", "write:1:ENOTANERRNO", "write:x:EIO"] {
            #expect(throws: SystemError.self) { _ = try FaultPlan(parsing: bad) }
        }
    }

    @Test func faultPlanFailsTheNthCallOfItsKind() {
        let plan = FaultPlan(rules: [
            FaultPlan.Rule(kind: .write, call: 3, code: ENOSPC),
            FaultPlan.Rule(kind: .fsync, call: 1, code: EIO),
        ])
        let writes = (1...5).map { _ in plan.next(.write) }
        #expect(writes == [nil, nil, ENOSPC, nil, nil])
        #expect(plan.next(.fdatasync) == nil)   // fsync and fdatasync are counted apart
        #expect(plan.next(.fsync) == EIO)
        #expect(plan.next(.fsync) == nil)
        #expect(FaultPlan.Kind(name: "pwrite") == .write)
        #expect(FaultPlan.Kind(name: "pread") == .read)
    }

    @Test func injectedFaultsReachTheCaller() throws {
        let plan = FaultPlan(rules: [
            FaultPlan.Rule(kind: .write, call: 2, code: EINTR),
            FaultPlan.Rule(kind: .write, call: 4, code: EIO),
        ])
        var bodyCalls = 0
        let body = { () -> Int in bodyCalls += 1; return 1 }
        // Call 1 runs; call 2 is an injected EINTR, retried as call 3; call 4 fails.
        #expect(try SystemCall.retrying(.write, "write", path: "/p", plan: plan, body) == 1)
        #expect(try SystemCall.retrying(.write, "write", path: "/p", plan: plan, body) == 1)
        #expect(bodyCalls == 2)
        #expect(throws: SystemError(code: EIO, call: "write", path: "/p")) {
            _ = try SystemCall.retrying(.write, "write", path: "/p", plan: plan, body)
        }
        #expect(bodyCalls == 2)
        #expect(try SystemCall.retrying(.write, "write", path: "/p", plan: plan, body) == 1)
    }
}
