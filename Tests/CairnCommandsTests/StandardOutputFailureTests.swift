import CairnTestSupport
import Foundation
import Testing

/// Issue 15, item 12: a command whose standard output cannot be written fails (exit 1, one
/// `Error:` line) instead of exiting 0 with its output lost; a pipe closed by its reader ends the
/// command quietly by SIGPIPE, as Kubo does (spec/cli.md, "Streams and exit codes").
@Suite struct StandardOutputFailureTests {
    static func cairn(_ arguments: [String], stdout: FileHandle) throws -> ProgramRun {
        try ProgramRun.run(try #require(CairnProcess.binary), arguments, stdout: stdout)
    }

    static func expectWriteFailure(_ outcome: ProgramRun, _ what: String, reason: String) {
        #expect(outcome.status == 1 && !outcome.signalled, "\(what): status \(outcome.status)")
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0] == "Error: cannot write standard output: \(reason)", "\(what): \(outcome.stderr)")
    }

    @Test func everyCommandFailsOnAFullStandardOutput() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let file = try box.write("file", Array(repeating: 7, count: 300_000))
        let added = try box.cairn(["add", "-Q", file])
        #expect(added.status == 0, "\(added.stderr)")
        let root = added.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let store = ["--store", box.store]
        for arguments in [
            ["add", file] + store, ["add", "-q", file] + store, ["pin", "ls"] + store, ["store", "verify"] + store,
            ["cat", root] + store, ["block", "get", root] + store, ["block", "stat", root] + store,
            ["chunk", file], ["hash", file], ["cid", "inspect", root], ["car", "create", file, "-o", box.root + "/x.car"],
            ["--version"], ["--help"], ["add", "--help"],
        ] {
            Self.expectWriteFailure(try Self.cairn(arguments, stdout: full), arguments.joined(separator: " "),
                                    reason: "No space left on device")
        }
    }

    /// --help and --version still print their text (exit 0) where standard output takes it.
    @Test func helpAndVersionStillPrint() throws {
        let version = try CairnProcess.run(["--version"])
        #expect(version.status == 0 && !version.stdoutText.isEmpty && version.stdoutText.hasSuffix("\n") && version.stderr.isEmpty)
        let help = try CairnProcess.run(["add", "--help"])
        #expect(help.status == 0 && help.stdoutText.contains("USAGE: cairn add") && help.stderr.isEmpty, "\(help.stdoutText)")
    }

    @Test func aClosedStandardOutputFails() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let file = try box.write("file", Array("closed\n".utf8))
        let outcome = try ProgramRun.cairnViaShell("exec \"$@\" >&-", ["add", "--store", box.store, file])
        Self.expectWriteFailure(outcome, "add >&-", reason: "Bad file descriptor")
        // The store was not damaged by a write meant for standard output.
        #expect(try box.cairn(["store", "verify"]).status == 0)
    }

    @Test func aPipeClosedByItsReaderEndsQuietlyBySIGPIPE() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let file = try box.write("file", Array(repeating: 1, count: 4 << 20))
        let root = try box.cairn(["add", "-Q", file]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let script = "\"$@\" | head -c 1 > /dev/null; echo \"status ${PIPESTATUS[0]}\" >&2"
        let binary = try #require(CairnProcess.binary)
        let outcome = try ProgramRun.run(URL(fileURLWithPath: "/bin/bash"), ["-c", script, "bash", binary.path, "cat", "--store", box.store, root])
        #expect(outcome.stderr == "status 141\n", "\(outcome.stderr)")
    }
}
