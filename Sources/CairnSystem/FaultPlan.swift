import Synchronization

/// Fault injection for tests: makes the Nth system call of a kind fail with a chosen errno.
///
/// The plan comes from the environment variable `CAIRN_FAULT`, read once when the first
/// system call goes through `SystemCall`: a comma-separated list of `KIND:N:ERRNO`, e.g.
/// `write:3:ENOSPC,fdatasync:1:EIO`. Each rule fires once, on the Nth call of its kind
/// (counted from 1 across the whole process). An injected `EINTR` is retried like a real one.
public final class FaultPlan: Sendable {
    /// What fault injection counts. `read` counts `read` and `pread`, `write` counts `write`
    /// and `pwrite` (the calls made through `SystemCall`). The `sqlite-*` kinds count SQLite's
    /// own I/O on the index (spec/blockstore.md §5): the opens, writes, truncations and syncs
    /// that its VFS makes, seen through the `cairn-fault` VFS shim (`CCairnFaultVFS`), which
    /// BlockStore registers only when a plan is active.
    public enum Kind: Int, CaseIterable, Sendable {
        case open, read, write, fsync, fdatasync, rename
        case sqliteOpen, sqliteWrite, sqliteTruncate, sqliteSync

        public init?(name: String) {
            switch name {
            case "open": self = .open
            case "read", "pread": self = .read
            case "write", "pwrite": self = .write
            case "fsync": self = .fsync
            case "fdatasync": self = .fdatasync
            case "rename": self = .rename
            case "sqlite-open": self = .sqliteOpen
            case "sqlite-write": self = .sqliteWrite
            case "sqlite-truncate": self = .sqliteTruncate
            case "sqlite-sync": self = .sqliteSync
            default: return nil
            }
        }

        /// The name `CAIRN_FAULT` and the counts use.
        public var name: String {
            switch self {
            case .open: "open"
            case .read: "read"
            case .write: "write"
            case .fsync: "fsync"
            case .fdatasync: "fdatasync"
            case .rename: "rename"
            case .sqliteOpen: "sqlite-open"
            case .sqliteWrite: "sqlite-write"
            case .sqliteTruncate: "sqlite-truncate"
            case .sqliteSync: "sqlite-sync"
            }
        }
    }

    /// One rule: the `call`-th call of `kind` fails with `code`.
    public struct Rule: Hashable, Sendable {
        public var kind: Kind
        public var call: Int
        public var code: Int32

        public init(kind: Kind, call: Int, code: Int32) {
            self.kind = kind
            self.call = call
            self.code = code
        }
    }

    public let rules: [Rule]
    /// Whether every call is counted even with no rule (`CAIRN_FAULT_COUNT=1`).
    public let counting: Bool
    private let counts = Mutex<[Int]>(Array(repeating: 0, count: Kind.allCases.count))

    public init(rules: [Rule], counting: Bool = false) {
        self.rules = rules
        self.counting = counting
    }

    /// Parses `KIND:N:ERRNO[,…]`; ERRNO is a name (`EIO`) or a number.
    public convenience init(parsing text: String, counting: Bool = false) throws(SystemError) {
        var rules: [Rule] = []
        for item in text.split(separator: ",") where !item.isEmpty {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, let kind = Kind(name: parts[0]), let call = Int(parts[1]), call >= 1,
                  let code = FaultPlan.errno(named: parts[2])
            else { throw SystemError(code: EINVAL, call: "CAIRN_FAULT", path: String(item)) }
            rules.append(Rule(kind: kind, call: call, code: code))
        }
        self.init(rules: rules, counting: counting)
    }

    /// The plan of this process, from `CAIRN_FAULT` (empty when unset; an invalid value is
    /// reported once on stderr and ignored).
    /// With `CAIRN_FAULT_COUNT=1`, the process writes the counts on stderr when it exits
    /// (`reportCounts`).
    public static let active: FaultPlan = {
        let counting = getenv("CAIRN_FAULT_COUNT").map { String(cString: $0) == "1" } ?? false
        if counting { atexit { FaultPlan.active.reportCounts() } }
        guard let value = getenv("CAIRN_FAULT") else { return FaultPlan(rules: [], counting: counting) }
        do throws(SystemError) {
            return try FaultPlan(parsing: String(cString: value), counting: counting)
        } catch {
            let line = "cairn: warning: ignoring invalid CAIRN_FAULT entry '\(error.path ?? "")'\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            return FaultPlan(rules: [], counting: counting)
        }
    }()

    /// Whether any call is counted (a rule, or `counting`): without it fault injection costs nothing.
    public var isActive: Bool { !rules.isEmpty || counting }

    /// The calls counted so far, one `KIND=COUNT` per kind: `open=3 read=9 write=4 fsync=1
    /// fdatasync=2 rename=1 sqlite-open=3 sqlite-write=12 sqlite-truncate=0 sqlite-sync=4`.
    public var countsDescription: String {
        let counts = counts.withLock { $0 }
        return Kind.allCases.map { "\($0.name)=\(counts[$0.rawValue])" }.joined(separator: " ")
    }

    /// Writes `cairn: system calls: COUNTS` on stderr (tests use it to choose which call to fail).
    func reportCounts() {
        let line = "cairn: system calls: \(countsDescription)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }

    /// Counts one call of `kind`; returns the errno to fail it with, if a rule says so.
    public func next(_ kind: Kind) -> Int32? {
        if rules.isEmpty && !counting { return nil }
        let number = counts.withLock { counts in
            counts[kind.rawValue] += 1
            return counts[kind.rawValue]
        }
        return rules.first { $0.kind == kind && $0.call == number }?.code
    }

    /// The errno values a rule may name.
    static func errno(named name: String) -> Int32? {
        if let number = Int32(name), number > 0 { return number }
        let known: [String: Int32] = [
            "EINTR": EINTR, "EIO": EIO, "ENOSPC": ENOSPC, "EACCES": EACCES, "EPERM": EPERM,
            "ENOENT": ENOENT, "EEXIST": EEXIST, "EBADF": EBADF, "EAGAIN": EAGAIN, "EDQUOT": EDQUOT,
            "EROFS": EROFS, "EMFILE": EMFILE, "ENOMEM": ENOMEM, "EFBIG": EFBIG, "EXDEV": EXDEV,
        ]
        return known[name]
    }
}
