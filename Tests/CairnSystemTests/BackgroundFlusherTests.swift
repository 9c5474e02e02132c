import CairnSystem
import CairnTestSupport
import Foundation
import Testing

/// The background flush of files being written (spec/system.md §4, spec/blockstore.md §5): its
/// failure is kept for the writer's next wait, and it outlives the writer's descriptor and name.
@Suite struct BackgroundFlusherTests {
    @Test func failedFlushIsThrownByTheNextWait() throws {
        // A pipe cannot be synced (fdatasync: EINVAL), in a child process or in a thread.
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        let flusher = BackgroundFlusher()
        flusher.start(ends[1], path: "/the/pipe")
        #expect(throws: SystemError.self) { try flusher.wait(cancellable: false) }
        do {
            try flusher.wait(cancellable: false)  // reported once, then cleared
        } catch {
            Issue.record("a failure reported twice: \(error)")
        }
        flusher.start(ends[1], path: "/the/pipe")
        do {
            try flusher.wait(cancellable: false)
            Issue.record("the second failure was not reported")
        } catch let error as SystemError {
            #expect(error.call == "fdatasync")
            #expect(error.path == "/the/pipe")
        }
    }

    @Test func flushOutlivesTheWritersDescriptorAndName() throws {
        let directory = try makeTemporaryDirectory("flusher")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out").path
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        #expect(fd >= 0)
        let bytes = [UInt8](repeating: 0x5a, count: 1 << 20)
        #expect(write(fd, bytes, bytes.count) == bytes.count)
        let flusher = BackgroundFlusher()
        flusher.start(fd, path: path)
        close(fd)
        unlink(path)
        try flusher.wait(cancellable: false)
        #expect(!flusher.isRunning)
    }

    @Test func pacingStartsAFlushEverySixteenMiB() throws {
        // On a pipe every flush fails, which shows when one was started.
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        let flusher = BackgroundFlusher()
        flusher.restart()
        try flusher.wrote(upTo: BackgroundFlusher.flushBytes - 1, fd: ends[1], path: "/the/pipe")
        try flusher.wait(cancellable: false)  // none yet
        try flusher.wrote(upTo: BackgroundFlusher.flushBytes, fd: ends[1], path: "/the/pipe")
        #expect(throws: SystemError.self) { try flusher.wait(cancellable: false) }
        flusher.restart(from: 64 << 20)
        try flusher.wrote(upTo: (64 << 20) + BackgroundFlusher.flushBytes / 2, fd: ends[1], path: "/the/pipe")
        try flusher.wait(cancellable: false)  // none: the pacing counts from the restart
    }
}
