import Foundation
import Hummingbird

/// The `timeout` option, enforced as Kubo's command handler does (go-ipfs-cmds http/handler.go
/// gives the command a context with that deadline): a command still running when it passes is
/// cancelled and answered `context deadline exceeded` (500, `Code` 0); a stream already started
/// ends with that message in its `X-Stream-Error` trailer (`RPCOutput.stream`).
enum RPCDeadline {
    /// The deadline of the request being handled, if it gave a `timeout`.
    @TaskLocal static var instant: ContinuousClock.Instant?

    /// Go's `context.DeadlineExceeded` text.
    static let message = "context deadline exceeded"

    /// Runs `command` under a deadline `seconds` from now. When it passes first, the command's
    /// task is cancelled (the body it is reading ends, a write it has not committed is
    /// abandoned) and, once it has stopped, the deadline error is the answer — unless the
    /// command completed anyway, whose answer then stands (its work is done and durable).
    static func run(seconds: Double, _ command: @escaping @Sendable () async throws -> Response) async throws -> Response {
        let instant = ContinuousClock.now + .seconds(min(max(seconds, 0), 1e9))
        return try await withThrowingTaskGroup(of: Response?.self) { group in
            group.addTask { try await RPCDeadline.$instant.withValue(instant) { try await command() } }
            group.addTask {
                try? await Task.sleep(until: instant, clock: .continuous)
                return nil
            }
            do {
                while let outcome = try await group.next() {
                    if let response = outcome {
                        group.cancelAll()
                        return response
                    }
                    // The deadline passed: stop the command and wait for it to end.
                    group.cancelAll()
                    guard let late = try? await group.next(), let response = late else { break }
                    return response
                }
            } catch {
                group.cancelAll()
                throw error
            }
            throw RPCError.normal(message)
        }
    }
}
