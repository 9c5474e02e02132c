import Foundation

/// Runs the built `cairn` executable, for end-to-end CLI tests.
///
/// The binary is looked up next to the running test executable (SwiftPM builds every product
/// into the same folder), then `CAIRN_BINARY` if set.
public enum CairnProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: String
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    public static let binary: URL? = {
        if let override = ProcessInfo.processInfo.environment["CAIRN_BINARY"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("cairn")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }()

    /// Runs `cairn ARGUMENTS`, feeding `stdin` (if any), and collects its output.
    ///
    /// A run whose caller sets no `CAIRN_HOME` gets a store of its own, a fresh path under the
    /// temporary folder that is removed when the run ends: runs never share a store by accident
    /// and tests never touch `~/.cairn`. Tests that need a store across runs name one.
    public static func run(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
                           currentDirectory: String? = nil) throws -> Result {
        guard let binary else { throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "cairn binary not found"]) }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        var privateStore: URL?
        if environment["CAIRN_HOME"] == nil {
            let store = FileManager.default.temporaryDirectory
                .appendingPathComponent("cairn-run-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))")
            env["CAIRN_HOME"] = store.path
            privateStore = store
        }
        defer { if let privateStore { try? FileManager.default.removeItem(at: privateStore) } }
        process.environment = env
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe
        try process.run()
        let writer = Thread {
            if let stdin { inPipe.fileHandleForWriting.write(stdin) }
            try? inPipe.fileHandleForWriting.close()
        }
        writer.start()
        // Drain stderr on another thread so neither pipe fills up and blocks the child.
        let errorBox = ErrorBox()
        let reader = Thread { errorBox.data = errPipe.fileHandleForReading.readDataToEndOfFile(); errorBox.done.signal() }
        reader.start()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        errorBox.done.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: out, stderr: String(decoding: errorBox.data, as: UTF8.self))
    }

    private final class ErrorBox: @unchecked Sendable {
        var data = Data()
        let done = DispatchSemaphore(value: 0)
    }
}
