import CairnTestSupport
import Foundation
import Testing

/// What a hostile pass against the CLI found, each kept from coming back (spec/cli.md,
/// spec/system.md §4): outputs never renamed over a device, FIFO or symlink; FIFOs and devices
/// refused as inputs instead of waited on or read forever; absurd durations and ports refused
/// instead of trapping; nothing stored when a later argument is missing or an output exists;
/// error lines that stay one line whatever they quote; SIGHUP handled like SIGINT.
@Suite struct HostileCLITests {
    /// Runs `cairn ARGUMENTS`, killing it after `seconds` (a regression here would wait for
    /// ever): the status, stderr, and whether it had to be killed.
    static func run(_ arguments: [String], seconds: Double = 60) throws -> (status: Int32, stderr: String, killed: Bool) {
        let process = Process()
        process.executableURL = try #require(CairnProcess.binary)
        process.arguments = arguments
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self), killed)
    }

    static func fileType(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    @Test func outputsAreNeverRenamedOverSpecialFilesOrLinks() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let input = try box.write("in", Array("hello\n".utf8))
        let root = try box.cairn(["add", "-Q", input]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let fifo = box.root + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let export = try Self.run(["car", "export", root, "-o", fifo, "--store", box.store])
        #expect(!export.killed && export.status == 1)
        #expect(export.stderr == "Error: \(fifo) is not a regular file: a CAR is written under a temporary name and renamed into place, so give a file's path\n")
        #expect(Self.fileType(fifo) == S_IFIFO)
        // A symlink is followed: the file it names gets the CAR, the link stays a link.
        let target = try box.write("target", Array("old".utf8))
        let link = box.root + "/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(try box.cairn(["car", "export", root, "-o", link]).status == 0)
        #expect(Self.fileType(link) == S_IFLNK)
        #expect(try CairnProcess.run(["car", "verify", target]).status == 0)
        let dangling = box.root + "/dangling"
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: box.root + "/nowhere")
        #expect(try box.cairn(["car", "export", root, "-o", dangling]).status == 1)
        #expect(!FileManager.default.fileExists(atPath: box.root + "/nowhere"))
    }

    @Test func specialFilesAreRefusedAsInputs() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let fifo = box.root + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let store = ["--store", box.store]
        for arguments in [["add", fifo] + store, ["add", "/dev/zero"] + store, ["block", "put", fifo] + store, ["hash", fifo]] {
            let result = try Self.run(arguments, seconds: 30)
            #expect(!result.killed, "\(arguments) waited on its input")
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("Error: ") && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
        let chunk = try Self.run(["chunk", fifo], seconds: 30)
        #expect(!chunk.killed && chunk.status == 1)
    }

    @Test(arguments: [
        ["store", "stat", "--lock-timeout", "99999999999999999999s"],
        ["store", "stat", "--lock-timeout", "9223372036854775808ms"],
        ["fetch", "--timeout", "9223372036854775807s", "--from", "http://127.0.0.1:9", "bafkqaaa"],
        ["fetch", "--from", "http://127.0.0.1:65536", "bafkqaaa"],
        ["push", "--to", "gateway+http://127.0.0.1:99999", "bafkqaaa"],
        ["fetch", "--from", "/ip4/999.0.0.1/tcp/5", "bafkqaaa"],
        ["store", "stat", "--store", ""],
    ])
    func absurdValuesAreUsageErrors(_ arguments: [String]) throws {
        let result = try CairnProcess.run(arguments)
        #expect(result.status == 64, "\(arguments): \(result.status) \(result.stderr)")
        #expect(result.stderr.hasPrefix("Error: "), "\(result.stderr)")
        #expect(!result.stderr.contains("Swift runtime failure"))
    }

    /// A missing last path: nothing of the earlier ones is added (Kubo opens every argument
    /// first). An existing `fetch -o`: refused before anything is fetched or stored.
    @Test func nothingIsStoredBeforeAnArgumentFails() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let input = try box.write("in", Array("hello\n".utf8))
        let add = try box.cairn(["add", input, box.root + "/missing"])
        #expect(add.status == 1 && add.stdout.isEmpty)
        #expect(add.stderr == "Error: cannot open \(box.root)/missing: No such file or directory\n")
        #expect(!FileManager.default.fileExists(atPath: box.store))
        let existing = try box.write("existing", [1])
        let fetch = try box.cairn(["fetch", "bafkqaaa", "--from", "http://127.0.0.1:9", "-o", existing])
        #expect(fetch.status == 1 && fetch.stderr == "Error: \(existing) already exists\n")
        #expect(!FileManager.default.fileExists(atPath: box.store))
    }

    /// An error line quoting hostile input stays one line: control characters escaped, and
    /// a huge argument cut.
    @Test func errorLinesStayOneLine() throws {
        let escaped = try CairnProcess.run(["cid", "inspect", "bafy\nbeig\u{1b}[31m"])
        #expect(escaped.status != 0)
        #expect(escaped.stderr.split(separator: "\n").count == 1, "\(escaped.stderr)")
        #expect(escaped.stderr.contains("bafy\\nbeig\\u{1b}[31m"), "\(escaped.stderr)")
        let huge = try CairnProcess.run(["cid", "inspect", String(repeating: "b", count: 100_000)])
        #expect(huge.status != 0 && huge.stderr.utf8.count < 2000, "\(huge.stderr.utf8.count) bytes")
    }

    /// A command waiting on standard input that never comes (a terminal, an idle pipe) stops
    /// on Ctrl-C: 130 and `Error: interrupted`, without waiting for the input to end (the
    /// handlers restart an interrupted read, so the wait itself must look at the token).
    @Test(arguments: [["add", "-"], ["block", "put"], ["hash", "-"]])
    func waitingOnStandardInputStopsOnSIGINT(_ arguments: [String]) throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let (process, input, err) = try Self.startReading(arguments + (arguments[0] == "hash" ? [] : ["--store", box.store]),
                                                          first: Data("some bytes, then nothing".utf8))
        usleep(200_000)  // into the wait for more input
        kill(process.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        let stuck = process.isRunning
        try input.close()  // lets a stuck one end
        process.waitUntilExit()
        #expect(!stuck, "\(arguments) kept waiting for input after SIGINT")
        #expect(process.terminationStatus == 128 + SIGINT)
        #expect(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "Error: interrupted\n")
    }

    /// Starts `cairn ARGUMENTS` reading a pipe the test writes (stdout discarded), once its
    /// signal handlers are installed; returns it, the pipe's writing end and its stderr.
    static func startReading(_ arguments: [String], first bytes: Data) throws -> (Process, FileHandle, Pipe) {
        let process = Process()
        process.executableURL = try #require(CairnProcess.binary)
        process.arguments = arguments
        let input = Pipe(), err = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        input.fileHandleForWriting.write(bytes)
        // SIGHUP's handler is installed with SIGINT's and SIGTERM's (ccairn_signals_install).
        InterruptTests.waitForSignalHandlers(process.processIdentifier)
        return (process, input.fileHandleForWriting, err)
    }

    /// SIGHUP (a closed terminal) cancels like SIGINT: 129 and `Error: interrupted`.
    @Test func hangUpCancelsCleanly() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let (process, input, err) = try Self.startReading(["add", "-", "--store", box.store], first: Data(repeating: 7, count: 1 << 20))
        kill(process.processIdentifier, SIGHUP)
        try input.close()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 128 + SIGHUP)
        #expect(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "Error: interrupted\n")
    }
}
