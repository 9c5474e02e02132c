/// Seconds on the monotonic clock (for measuring durations; the origin is arbitrary).
@inlinable
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
