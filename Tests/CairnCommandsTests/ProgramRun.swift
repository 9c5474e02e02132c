import CairnTestSupport
import Foundation

/// One run of a program with a chosen standard output (a file such as /dev/full, or a pipe
/// that is collected), for the tests of output failures and placement.
struct ProgramRun {
    var status: Int32
    var signalled: Bool
    var stdout: Data
    var stderr: String
    /// Killed (SIGKILL) because it outlived the `timeout` it was given.
    var timedOut = false

    /// Runs `program ARGUMENTS`; stdout goes to `stdout`, or is collected when nil. `stdin` is
    /// fed to the program (else it reads /dev/null), `environment` adds to ours, and a program
    /// still running after `timeout` seconds is killed.
    static func run(_ program: URL, _ arguments: [String], stdout: FileHandle? = nil, stdin: Data? = nil,
                    environment extra: [String: String] = [:], timeout: Double? = nil) throws -> ProgramRun {
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        let collected = Pipe(), errors = Pipe(), input = Pipe()
        process.standardOutput = stdout ?? collected
        process.standardError = errors
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        var environment = ProcessInfo.processInfo.environment
        // As `CairnProcess.run`: a run that names no store gets one of its own, removed after.
        var privateStore: URL?
        if environment["CAIRN_HOME"] == nil && extra["CAIRN_HOME"] == nil {
            let store = FileManager.default.temporaryDirectory
                .appendingPathComponent("cairn-run-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))")
            environment["CAIRN_HOME"] = store.path
            privateStore = store
        }
        defer { if let privateStore { try? FileManager.default.removeItem(at: privateStore) } }
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        final class Box: @unchecked Sendable { var data = Data(); var output = Data() }
        let box = Box()
        let done = DispatchGroup()
        if let stdin {
            Thread { input.fileHandleForWriting.write(stdin); try? input.fileHandleForWriting.close() }.start()
        }
        done.enter()
        Thread { box.data = errors.fileHandleForReading.readDataToEndOfFile(); done.leave() }.start()
        if stdout == nil {
            done.enter()
            Thread { box.output = collected.fileHandleForReading.readDataToEndOfFile(); done.leave() }.start()
        }
        var timedOut = false
        if let timeout, exited.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
        }
        done.wait()
        process.waitUntilExit()
        return ProgramRun(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                          stdout: box.output, stderr: String(decoding: box.data, as: UTF8.self), timedOut: timedOut)
    }

    /// Runs `cairn ARGUMENTS` through `sh -c SCRIPT` where SCRIPT ends in `exec "$@"` (for
    /// `ulimit`, closed descriptors and pipes).
    static func cairnViaShell(_ script: String, _ arguments: [String], stdout: FileHandle? = nil) throws -> ProgramRun {
        guard let binary = CairnProcess.binary else { throw CocoaError(.fileNoSuchFile) }
        return try run(URL(fileURLWithPath: "/bin/sh"), ["-c", script, "sh", binary.path] + arguments, stdout: stdout)
    }
}
