import CCairnSystem
import Synchronization

/// The one way Cairn's long loops learn that they should stop.
///
/// Every long loop calls `check()` (typically once per block or per batch) on the token it was
/// given, `CancellationToken.process` by default. A token is cancelled when `cancel()` is
/// called on it, when the process token is (SIGINT, SIGTERM or SIGHUP, once `installSignalHandlers()`
/// has run), or when the Swift task running the loop is cancelled. `check()` then throws
/// `CancellationError`; the caller unwinds, removing its temporary files.
public final class CancellationToken: Sendable {
    /// 0 while running; the signal number, or -1 for `cancel()`, once cancelled.
    private let state = Atomic<Int32>(0)

    public init() {}

    /// The token of the whole process: cancelled by SIGINT, SIGTERM and SIGHUP.
    public static let process = CancellationToken()

    /// Cancels the token (idempotent).
    public func cancel() {
        _ = state.compareExchange(expected: 0, desired: -1, ordering: .relaxed)
    }

    /// The signal that cancelled the process, if one did.
    public var signal: Int32? {
        let received = ccairn_signal_received()
        return received > 0 ? received : nil
    }

    public var isCancelled: Bool {
        state.load(ordering: .relaxed) != 0 || ccairn_signal_received() != 0 || Task.isCancelled
    }

    /// Throws `CancellationError` if the token is cancelled.
    @inline(__always)
    public func check() throws(CancellationError) {
        if isCancelled { throw CancellationError() }
    }

    /// Makes the first SIGINT, SIGTERM or SIGHUP cancel `CancellationToken.process`; a second one
    /// ends the process at once with status 128 + its number. For programs, not libraries.
    public static func installSignalHandlers() {
        ccairn_signals_install()
    }

    /// For a server that shuts down gracefully: from now on the first SIGINT, SIGTERM or SIGHUP
    /// only sets `shutdownSignal` (the work in flight goes on and finishes), the second cancels
    /// `CancellationToken.process` (the work in flight stops cleanly), a third ends the process.
    public static func deferFirstSignal() {
        ccairn_signals_defer_first()
    }

    /// The signal that asked for a graceful shutdown (`deferFirstSignal`), if one did.
    public static var shutdownSignal: Int32? {
        let requested = ccairn_shutdown_requested()
        return requested > 0 ? requested : nil
    }

    /// For a program whose work is done and whose output is all written, just before it
    /// checks `process.signal` a last time and exits: from now on any of them writes
    /// `Error: interrupted` on stderr and ends the process at once with 128 + its number,
    /// so that a signal arriving during the exit (its threads, its mappings) is not lost.
    public static func exitOnSignalFromNowOn() {
        ccairn_signals_finishing()
    }
}
