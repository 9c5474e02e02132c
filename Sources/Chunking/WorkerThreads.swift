import CairnSystem

/// Threads of its own for each parallel call, started and joined by the call.
///
/// Not Dispatch: `DispatchQueue.concurrentPerform` runs every iteration on the calling thread
/// when the shared pool's threads are busy, and during an import they are (the hashing stage
/// runs on them), so a "parallel" chunking pass could run serially while a core idles. A thread
/// of its own is always scheduled, and the kernel shares the cores fairly between it and the
/// hashing threads. Starting a thread costs tens of microseconds, once per range of many MiB.
enum WorkerThreads {
    /// Runs `body(0)` … `body(count − 1)` at once: `body(0)` on the calling thread, every other
    /// index on a new thread (on the calling thread after `body(0)` if a thread cannot start).
    /// Returns when every call has returned.
    static func run(_ count: Int, _ body: (Int) -> Void) {
        guard count > 1 else {
            if count == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var started: [pthread_t] = []
            var unstarted: [Int] = []
            for index in 1..<count {
                let context = Unmanaged.passRetained(ThreadContext(body, index)).toOpaque()
                var thread = pthread_t()
                let status = pthread_create(&thread, nil, { raw in
                    let context = Unmanaged<ThreadContext>.fromOpaque(raw!).takeRetainedValue()
                    context.body(context.index)
                    return nil
                }, context)
                if status == 0 {
                    started.append(thread)
                } else {
                    Unmanaged<ThreadContext>.fromOpaque(context).release()
                    unstarted.append(index)
                }
            }
            body(0)
            for index in unstarted { body(index) }
            for thread in started { pthread_join(thread, nil) }
        }
    }
}

/// What a started thread runs; the closure outlives no call of ``WorkerThreads/run(_:_:)``.
private final class ThreadContext: @unchecked Sendable {
    let body: (Int) -> Void
    let index: Int
    init(_ body: @escaping (Int) -> Void, _ index: Int) {
        self.body = body
        self.index = index
    }
}
