import ArgumentParser
import CairnSystem
import Synchronization


/// A write to standard output that failed: the command fails with it (spec/cli.md, "Streams").
struct StandardOutputError: Error, CustomStringConvertible {
    var code: Int32
    var description: String { "cannot write standard output: \(String(cString: strerror(code)))" }
}

/// The one writer of standard output.
///
/// Every byte the CLI prints goes through `write`. The first failure is remembered, so that a
/// command whose printing cannot throw (`writeStandardOutput`) still ends with status 1, and
/// `Cairn.main` checks it once the command has run.
enum StandardOutput {
    private static let failure = Mutex<Int32?>(nil)

    /// Run once at start-up: SIGPIPE is ignored (a closed pipe becomes EPIPE, see `exit`), and
    /// so is SIGXFSZ (a file-size limit becomes an EFBIG error, not a kill); a closed descriptor 0, 1 or 2 is reserved on /dev/null so that no file the command
    /// opens can take its number; a closed stdout is remembered as EBADF.
    static func prepare() {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)
        var info = stat()
        // An anonymous inode (no file type: the eventfd the runtime may have opened on a free
        // number before main) is never a standard output the caller gave: it was closed.
        if fstat(1, &info) == 0 && (info.st_mode & S_IFMT) == 0 { record(EBADF) }
        for descriptor: Int32 in 0...2 where fcntl(descriptor, F_GETFD) < 0 {
            if descriptor == 1 { record(EBADF) }
            let null = open("/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY)
            if null >= 0 && null != descriptor {
                dup2(null, descriptor)
                close(null)
            }
        }
    }

    /// Writes all of `bytes` (through the one syscall helper: EINTR retried, faults injectable);
    /// throws (and remembers) the first failure.
    static func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let code = failure.withLock({ $0 }) { throw StandardOutputError(code: code) }
        do {
            try SystemCall.writeAll(1, bytes, path: nil)
        } catch {
            record(error.code)
            throw StandardOutputError(code: error.code)
        }
    }

    static func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    /// Throws the remembered failure, if any.
    static func check() throws {
        if let code = failure.withLock({ $0 }) { throw StandardOutputError(code: code) }
    }

    private static func record(_ code: Int32) {
        failure.withLock { if $0 == nil { $0 = code } }
    }

    /// A command that ended on `error`. A pipe closed by its reader (EPIPE, e.g. `| head`) ends
    /// the process by SIGPIPE without a message, as Kubo (Go) and the classic Unix tools do;
    /// everything else is ArgumentParser's one `Error: …` line and exit status.
    static func exit(withError error: any Error) -> Never {
        if let error = error as? StandardOutputError, error.code == EPIPE {
            signal(SIGPIPE, SIG_DFL)
            raise(SIGPIPE)
        }
        let code = Cairn.exitCode(for: error)
        let message = Cairn.message(for: error)
        let full = Cairn.fullMessage(for: error)
        // --help and --version (status 0): their text through the one writer, so that a standard
        // output that does not take it fails the command like any other output.
        if code == .success {
            if !full.isEmpty {
                do { try write(full.hasSuffix("\n") ? full : full + "\n") } catch { exit(withError: error) }
            }
            Cairn.exit()
        }
        // A shape not known here: ArgumentParser's own.
        guard full.hasPrefix("Error: " + message) else { Cairn.exit(withError: error) }
        // The message may quote hostile input (a name, a CID, a remote's answer): its control
        // characters are escaped and it is cut at 1000 characters, so the error stays one line
        // and cannot drive the terminal; ArgumentParser's usage hint lines follow unchanged.
        let hint = full.dropFirst(("Error: " + message).count)
        var line = "Error: " + oneLine(message, limit: 1000) + hint
        if !line.hasSuffix("\n") { line += "\n" }
        // Written with write(2) itself, as ArgumentParser does, not through SystemCall: the
        // fault tests inject errors into SystemCall's writes, and the error line must still come.
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { break }
                offset += written
            }
        }
        CairnSystem.exit(code.rawValue)
    }
}

/// Writes one error line to standard error, as every command's errors (`Error: …`, control
/// characters escaped), for failures reported while the command goes on.
func writeErrorLine(_ message: String) {
    var line = Array("Error: \(oneLine(message, limit: 1000))\n".utf8)
    _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

/// Writes text to standard output in one call (no per-line flushes). A failure does not throw
/// here: it is remembered and fails the command when it ends (`StandardOutput.check`).
func writeStandardOutput(_ text: String) {
    try? StandardOutput.write(text)
}
