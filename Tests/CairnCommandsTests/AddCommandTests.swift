import CairnTestSupport
import Foundation
import Testing

/// Runs the built `cairn` binary (next to the test bundle) on a few files. Each test has its own
/// folder for its input files, removed when the test ends.
@Suite final class AddCommandTests {
    let directory: URL

    init() throws {
        directory = try makeTemporaryDirectory("add")
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the built `cairn` (see `CairnProcess`: a private store, never `~/.cairn`).
    func cairn(_ arguments: [String], stdin: [UInt8]? = nil) throws -> Run {
        let result = try CairnProcess.run(arguments, stdin: stdin.map { Data($0) })
        return Run(status: result.status, stdout: result.stdoutText, stderr: result.stderr)
    }

    func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    @Test func printsKuboLines() throws {
        let hello = try temporaryFile("hello.txt", Array("hello world\n".utf8))
        let big = try temporaryFile("sm1_262145", try #require(Vectors.input(named: "sm1_262145")))
        let run = try cairn(["add", "-n", hello, big])
        #expect(run.status == 0)
        // hello.txt: external-vectors.md B1 ("hello world\n"); sm1_262145: cids.tsv, no flags.
        let bigRoot = try #require(try Vectors.tsv("cids.tsv").first { $0["input"] == "sm1_262145" && $0["flags"] == "(none)" }?["root_cid"])
        #expect(run.stdout == "added QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o hello.txt\n"
            + "added \(bigRoot) sm1_262145\n")
        #expect(run.stderr.isEmpty, "no progress bar when stderr is not a terminal")
    }

    @Test func vectorRowsThroughTheCLI() throws {
        let rows = try Vectors.tsv("cids.tsv").filter { $0["input"] == "sm2_1048577" }
        #expect(rows.count == 16)
        let path = try temporaryFile("sm2_1048577", try #require(Vectors.input(named: "sm2_1048577")))
        for row in rows {
            let flags = row["flags"] == "(none)" ? [] : row["flags"]!.split(separator: " ").map {
                $0.hasPrefix("--max-links") ? "--max-file-links" + $0.dropFirst("--max-links".count) : String($0)
            }
            let run = try cairn(["add", "-Q"] + flags + [path])
            #expect(run.stdout == row["root_cid"]! + "\n", "\(row["flags"]!): \(run.stderr)")
        }
    }

    @Test func standardInputQuietAndJSON() throws {
        let run = try cairn(["add", "-q", "--cid-version=1", "-"], stdin: Array("hello world".utf8))
        #expect(run.stdout == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e\n")
        let named = try cairn(["add", "--stdin-name", "x.txt", "-"], stdin: Array("hello world".utf8))
        #expect(named.stdout == "added Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD x.txt\n")
        let json = try cairn(["add", "--json", "-"], stdin: Array("hello world\n".utf8))
        #expect(json.stdout.contains("\"Hash\":\"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o\""))
    }

    @Test(arguments: [
        (["add", "--hash=sha2-512", "--cid-version=0", "-"], "CIDv0 only supports sha2-256"),
        (["add", "--inline", "--inline-limit=129", "-"], "inline-limit 129 exceeds"),
        (["add", "--raw-leaves=perhaps", "-"], "--raw-leaves takes true or false"),
        (["add", "--chunker=size-0", "-"], "size must be at least 1"),
        (["add", "/nonexistent/cairn-file"], "cannot open /nonexistent/cairn-file"),
        (["add"], "expected a file argument"),
    ])
    func refusals(arguments: [String], phrase: String) throws {
        let run = try cairn(arguments, stdin: [])
        #expect(run.status != 0)
        #expect(run.stderr.contains(phrase), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "one line: \(run.stderr)")
        #expect(run.stdout.isEmpty)
    }
}
