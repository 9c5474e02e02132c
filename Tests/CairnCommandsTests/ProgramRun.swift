import CairnTestSupport
import Foundation

/// One run of a program with a chosen standard output (a file such as /dev/full, or a pipe
/// that is collected), for the tests of output failures and placement.
struct ProgramRun {
    var status: Int32
    var signalled: Bool
    var stdout: Data
    var stderr: String

    /// Runs `program ARGUMENTS`; stdout goes to `stdout`, or is collected when nil.
    static func run(_ program: URL, _ arguments: [String], stdout: FileHandle? = nil) throws -> ProgramRun {
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        let collected = Pipe(), errors = Pipe()
        process.standardOutput = stdout ?? collected
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        if environment["CAIRN_HOME"] == nil { environment["CAIRN_HOME"] = CairnProcess.defaultStore.path }
        process.environment = environment
        try process.run()
        final class Box: @unchecked Sendable { var data = Data() }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let reader = Thread { box.data = errors.fileHandleForReading.readDataToEndOfFile(); done.signal() }
        reader.start()
        let output = stdout == nil ? collected.fileHandleForReading.readDataToEndOfFile() : Data()
        done.wait()
        process.waitUntilExit()
        return ProgramRun(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                          stdout: output, stderr: String(decoding: box.data, as: UTF8.self))
    }

    /// Runs `cairn ARGUMENTS` through `sh -c SCRIPT` where SCRIPT ends in `exec "$@"` (for
    /// `ulimit`, closed descriptors and pipes).
    static func cairnViaShell(_ script: String, _ arguments: [String], stdout: FileHandle? = nil) throws -> ProgramRun {
        guard let binary = CairnProcess.binary else { throw CocoaError(.fileNoSuchFile) }
        return try run(URL(fileURLWithPath: "/bin/sh"), ["-c", script, "sh", binary.path] + arguments, stdout: stdout)
    }
}
