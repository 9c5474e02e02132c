import CairnTestSupport
import Foundation
import Testing

/// Small messages the hostile pass found wrong: a negative number given to an option as a
/// word of its own, `car create` on a directory, and `cairn chunk`'s error prefix.
@Suite struct CLIMessageTests {
    /// `--NAME -5` is read as `--NAME=-5`: the option's own check answers in one line (status
    /// 64) instead of ArgumentParser's "Missing value", and a valid negative value is taken.
    @Test func negativeOptionValuesGetTheOptionsOwnMessage() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let file = try box.write("f", Array("some bytes\n".utf8))
        let cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        let cases: [([String], String)] = [
            (["cat", "--length", "-5", cid], "Error: cannot specify negative length"),
            (["cat", "-o", "-5", cid], "Error: cannot specify negative offset"),
            (["chunk", "--threads", "-5", file], "Error: --threads must be from 1 to 1024"),
            (["gc", "--compact-threshold", "-1"], "Error: --compact-threshold must be between 0 and 1, got -1.0"),
            (["push", file, "--to", "http://127.0.0.1:1", "--concurrency", "-5"], "Error: --concurrency must be at least 1, got -5"),
        ]
        for (arguments, line) in cases {
            let result = try CairnProcess.run(arguments)
            #expect(result.status == 64, "\(arguments): \(result.status) \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").first.map(String.init) == line, "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("Missing value"), "\(arguments): \(result.stderr)")
        }
        // A negative --mtime is a time before 1970, as with --mtime=-5.
        let mtime = try box.cairn(["add", "-Q", "-n", "--mtime", "-5", file])
        let joined = try box.cairn(["add", "-Q", "-n", "--mtime=-5", file])
        #expect(mtime.status == 0 && mtime.stdoutText == joined.stdoutText, "\(mtime.stderr)")
    }

    /// Numbers too large for what they size (a review found each reaching arithmetic that
    /// traps): refused in one line with status 64 before anything starts, or, for an import
    /// option Kubo takes at any size, taken without reserving memory by it.
    @Test func hugeNumbersAreRefusedOrHarmless() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let file = try box.write("f", Array(repeating: 7, count: 3000))
        let huge = "9223372036854775807"
        let cases: [([String], String)] = [
            (["serve", "--idle-timeout", "40000000000", "--api", "127.0.0.1:0", "--gateway", "none"], "Error: --idle-timeout must be from 1 to 100000000 seconds"),
            (["serve", "--max-uploads", huge, "--api", "127.0.0.1:0", "--gateway", "none"], "Error: --max-uploads must be from 1 to 1000000"),
            (["serve", "--max-streams", huge, "--api", "127.0.0.1:0", "--gateway", "none"], "Error: --max-streams must be from 1 to 1000000"),
            (["add", "--threads", huge, file], "Error: --threads must be from 1 to \(1024), got \(huge)"),
        ]
        for (arguments, line) in cases {
            let result = try box.cairn(arguments)
            #expect(result.status == 64, "\(arguments): \(result.status) \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").first.map(String.init) == line, "\(arguments): \(result.stderr)")
        }
        // --max-file-links of Int64.max with three 1 KiB chunks: one level of links, as with 174.
        let wide = try box.cairn(["add", "-Q", "-n", "--chunker=size-1024", "--max-file-links", huge, file])
        let usual = try box.cairn(["add", "-Q", "-n", "--chunker=size-1024", file])
        #expect(wide.status == 0 && wide.stdoutText == usual.stdoutText, "\(wide.stderr)")
    }

    /// `car create` has no `-r`: a directory gets advice that works.
    @Test func carCreateOnADirectoryNamesWhatWorks() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let directory = box.root + "/d"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = try box.write("d/a", [1, 2, 3])
        let out = box.root + "/x.car"
        let result = try CairnProcess.run(["car", "create", directory, "-o", out])
        #expect(result.status == 1 && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr == "Error: \(directory) is a directory; `cairn car create` imports one file "
                + "(for a directory: cairn add -r --car \(out) \(directory))\n", "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let add = try box.cairn(["add", "-r", "-Q", "--car", out, directory])
        #expect(add.status == 0, "\(add.stderr)")
    }

    /// `cairn chunk`'s errors are `Error: …` lines like every other command's.
    @Test func chunkErrorsArePrefixedLikeTheOthers() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-no-such-\(UUID().uuidString)").path
        let open = try CairnProcess.run(["chunk", missing])
        #expect(open.status == 1 && open.stderr == "Error: cannot open \(missing): No such file or directory\n", "\(open.stderr)")
        let spec = try CairnProcess.run(["chunk", "--chunker", "bogus", "-"], stdin: Data())
        #expect(spec.status == 64 && spec.stderr.hasPrefix("Error: invalid chunker \"bogus\""), "\(spec.stderr)")
        #expect(spec.stderr.split(separator: "\n").count == 1, "\(spec.stderr)")
        // A directory is named as one, not as a failed read ("Is a directory (errno 21)").
        let directory = FileManager.default.temporaryDirectory.path
        let dir = try CairnProcess.run(["chunk", directory])
        #expect(dir.status == 1 && dir.stderr == "Error: \(directory) is a directory: cairn chunk cuts one file\n", "\(dir.stderr)")
    }
}
