/// A system call that failed: which call, on which file, and the operating system's error
/// number. Its description is one line for people, e.g.
/// `cannot write /x/y: No space left on device`.
public struct SystemError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The `errno` value.
    public let code: Int32
    /// The call that failed (`open`, `read`, `pwrite`, `fdatasync`, …).
    public let call: String
    /// The file it was working on, when there is one.
    public let path: String?

    public init(code: Int32, call: String, path: String?) {
        self.code = code
        self.call = call
        self.path = path
    }

    /// The operating system's text for `code` (`strerror`).
    public var reason: String { String(cString: strerror(code)) }

    /// What was being done, as a verb phrase (`cannot write`).
    public var action: String {
        switch call {
        case "open", "openat": return "cannot open"
        case "read", "pread": return "cannot read"
        case "write", "pwrite": return "cannot write"
        case "fsync", "fdatasync": return "cannot sync"
        case "rename": return "cannot rename"
        case "fstat", "stat": return "cannot stat"
        case "ftruncate": return "cannot truncate"
        case "unlink": return "cannot remove"
        case "mkdir", "mkdirat", "symlinkat": return "cannot create"
        case "flock": return "cannot lock"
        default: return "\(call) failed on"
        }
    }

    public var description: String {
        if let path { return "\(action) \(path): \(reason)" }
        return "\(call) failed: \(reason)"
    }
}
