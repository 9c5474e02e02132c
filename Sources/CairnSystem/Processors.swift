import CCairnSystem

/// The thread-count policy: `--threads N` when given, else the processors this process may
/// run on (honouring its CPU affinity, e.g. `taskset`), at least 1.
public enum Processors {
    /// The processors available to this process.
    public static var available: Int { Int(ccairn_available_processors()) }

    /// The number of worker threads for a requested count (nil: every available processor).
    public static func threads(_ requested: Int?) -> Int {
        max(1, requested ?? available)
    }
}
