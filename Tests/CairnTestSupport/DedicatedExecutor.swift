import Foundation

/// A task executor with threads of its own, for servers that tests run in their own process.
///
/// On Linux, Swift concurrency's tasks and `DispatchQueue.global()` share as many threads as
/// the machine has cores (two on CI). Swift Testing runs synchronous tests on those threads,
/// and many of ours block there for seconds (`CairnProcess.run` waits for a `cairn` child): two
/// at once, and an in-process server's request tasks waited with them, past the HTTP client's
/// deadline (the gateway CAR cases failed that way in the loaded suite and under ASan). A test
/// that serves in process runs the server and its own requests here instead
/// (`withTaskExecutorPreference`, `Task(executorPreference:)`), away from whatever else the
/// suite is doing.
public final class DedicatedExecutor: TaskExecutor, @unchecked Sendable {
    /// One for the whole test process: its threads run forever.
    public static let shared = DedicatedExecutor(threads: 4, name: "cairn-test-executor")

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0

    public init(threads: Int, name: String) {
        for index in 0..<threads {
            let thread = Thread { self.serve() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func serve() {
        while true {
            condition.lock()
            while head == jobs.count { condition.wait() }
            let job = jobs[head]
            head += 1
            if head >= 256 && head * 2 >= jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
