import CairnTestSupport
import Foundation
import Testing

/// Issue 15, item 13: an invalid option value is a usage error (exit 64, spec/cli.md "Streams
/// and exit codes"), found before any work starts: one `Error:` line, nothing on stdout, no store
/// created.
@Suite struct UsageExitCodeTests {
    static let cases: [[String]] = [
        ["add", "--chunker", "size-0", "FILE"],
        ["add", "--threads", "0", "FILE"],
        ["add", "--threads", "-1", "FILE"],
        ["add", "--cid-version", "2", "FILE"],
        ["add", "--hash", "md5", "FILE"],
        ["add", "--profile", "bogus", "FILE"],
        ["add", "--max-hamt-fanout", "3", "FILE"],
        ["add", "--mode", "99999", "FILE"],
        ["add"],
        ["gc", "--compact-threshold", "2"],
        ["car", "verify", "--threads", "0", "CAR"],
        ["car", "verify", "--threads", "-1", "CAR"],
        ["car", "create", "--threads", "0", "FILE", "-o", "OUT"],
        ["car", "create", "--profile", "bogus", "FILE", "-o", "OUT"],
        ["car", "create", "--hash", "md5", "FILE", "-o", "OUT"],
        ["block", "put", "--mhtype", "md5", "FILE"],
        ["block", "put", "--cid-version", "2", "FILE"],
        ["pin", "ls", "--type", "bogus"],
        // Options that would be dropped in silence, or write a file named "-".
        ["add", "--car-v2", "FILE"],
        ["add", "--car", "-", "FILE"],
        ["car", "create", "FILE", "-o", "-"],
        // Sizes that would be one impossible allocation.
        ["bench", "hash", "--size", "99999999999999", "--total", "99999999999999"],
        ["bench", "hash", "--size", "1", "--total", "1099511627776"],
    ]

    @Test(arguments: cases)
    func invalidOptionValueIsAUsageError(arguments: [String]) throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let file = try box.write("file", Array("hello\n".utf8))
        let car = try box.write("empty.car", [])
        let resolved = arguments.map { $0 == "FILE" ? file : $0 == "CAR" ? car : $0 == "OUT" ? box.root + "/out.car" : $0 }
        let run = try box.cairn(resolved)
        #expect(run.status == 64, "\(arguments): status \(run.status), \(run.stderr)")
        #expect(run.stdout.isEmpty)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("Error: "), "\(arguments): \(run.stderr)")
        #expect(!run.stderr.contains("Missing value"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: box.store), "\(arguments) created the store")
        #expect(!FileManager.default.fileExists(atPath: box.root + "/out.car"))
    }

    /// The same values, valid, are accepted (the table above fails for the value, not the shape).
    @Test func validValuesStillWork() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let file = try box.write("file", Array("hello\n".utf8))
        let add = try box.cairn(["add", "--threads", "1", "--chunker", "size-4", "--cid-version", "1", "--max-hamt-fanout", "8", "-Q", file])
        #expect(add.status == 0, "\(add.stderr)")
        #expect(try box.cairn(["gc", "--compact-threshold", "1"]).status == 0)
    }
}
