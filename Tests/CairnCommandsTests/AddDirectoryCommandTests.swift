import CairnTestSupport
import Foundation
import Testing

import CairnSystem

/// `cairn add` on directories through the built binary: `-r`, `-w`, `-H`, several arguments,
/// output forms, hostile names.
@Suite struct AddDirectoryCommandTests {
    static func generate(_ tree: String, in parent: URL) throws -> URL {
        try Vectors.generateTree(tree, in: parent)
    }

    static func lines(_ result: CairnProcess.Result) -> [(cid: String, path: String)] {
        result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { line in
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            return (String(parts[1]), parts.count > 2 ? String(parts[2]) : "")
        }
    }

    /// Every file and directory printed once with its vector CID, paths under the argument's
    /// basename, children before parents, the root last (kubo-import-semantics.md §6.3).
    @Test func recursiveOutputMatchesThePathVectors() throws {
        let parent = try makeTemporaryDirectory("cli-r")
        defer { try? FileManager.default.removeItem(at: parent) }
        let tree = try Self.generate("basic", in: parent)
        let rows = try Vectors.tsv("dirs/basic.paths.tsv")
        for (flags, column) in [([String](), "cid_v0"), (["--cid-version=1"], "cid_v1")] {
            let run = try CairnProcess.run(["add", "-r", "-n"] + flags + [tree.path])
            #expect(run.status == 0, "\(run.stderr)")
            let printed = Self.lines(run)
            #expect(printed.count == rows.count)
            let expected = Dictionary(uniqueKeysWithValues: rows.map { ($0["path"] == "/" ? "basic" : "basic" + $0["path"]!, $0[column]!) })
            var position: [String: Int] = [:]
            for (index, line) in printed.enumerated() {
                #expect(expected[line.path] == line.cid, "\(line.path)")
                position[line.path] = index
            }
            for path in position.keys where path.contains("/") {
                let parentPath = String(path[..<path.lastIndex(of: "/")!])
                #expect(position[path]! < position[parentPath]!, "\(path) printed after its directory")
            }
            #expect(printed.last?.path == "basic")
        }
        // dirs.tsv `kubo_v0` of the full `basic` tree: Kubo v0.22's `ipfs add -r`.
        let root = try #require(try Vectors.tsv("dirs.tsv").first { $0["tree"] == "basic" && $0["variant"] == "full" }?["kubo_v0"])
        let quiet = try CairnProcess.run(["add", "-r", "-q", tree.path])
        #expect(quiet.stdoutText.split(separator: "\n").count == rows.count)
        #expect(quiet.stdoutText.hasSuffix(root + "\n"))
        let quieter = try CairnProcess.run(["add", "-r", "-Q", tree.path])
        #expect(quieter.stdoutText == root + "\n")
        let trailing = try CairnProcess.run(["add", "-r", "-Q", tree.path + "/"])
        #expect(trailing.stdoutText == quieter.stdoutText)
    }

    /// `-w`: gateway-conformance `gateway-raw-block.car` (`ipfs add -Qrw --cid-version 1 dir`,
    /// external-vectors.md §B10), and `-w -r m/*` equals `-r m` (§6.1).
    @Test func wrapWithDirectory() throws {
        let parent = try makeTemporaryDirectory("cli-w")
        defer { try? FileManager.default.removeItem(at: parent) }
        let dir = parent.appendingPathComponent("dir")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("hello application/vnd.ipld.raw\n".utf8).write(to: dir.appendingPathComponent("ascii.txt"))
        let run = try CairnProcess.run(["add", "-Qrw", "--cid-version", "1", dir.path])
        #expect(run.stdoutText == "bafybeie72edlprgtlwwctzljf6gkn2wnlrddqjbkxo3jomh4n7omwblxly\n", "\(run.stderr)")

        let planets = parent.appendingPathComponent("planets")
        try FileManager.default.createDirectory(at: planets, withIntermediateDirectories: true)
        try Data("Hello Mars!\n".utf8).write(to: planets.appendingPathComponent("mars.txt"))
        try Data("Hello Venus!\n".utf8).write(to: planets.appendingPathComponent("venus.txt"))
        let wrapped = try CairnProcess.run(["add", "-w", planets.appendingPathComponent("mars.txt").path,
                                            planets.appendingPathComponent("venus.txt").path])
        #expect(wrapped.stdoutText == """
            added QmPrrHqJzto9m7SyiRzarwkqPcCSsKR2EB1AyqJfe8L8tN mars.txt
            added QmU5kp3BH3B8tnWUU2Pikdb2maksBNkb92FHRr56hyghh4 venus.txt
            added QmWSgS32xQEcXMeqd3YPJLrNBLSdsfYCep2U7CFkyrjXwY \n
            """)
        let named = try CairnProcess.run(["add", "-w", "-Q", "--stdin-name", "venus.txt", planets.appendingPathComponent("mars.txt").path, "-"],
                                         stdin: Data("Hello Venus!\n".utf8))
        #expect(named.stdoutText == "QmWSgS32xQEcXMeqd3YPJLrNBLSdsfYCep2U7CFkyrjXwY\n", "\(named.stderr)")
        let clash = try CairnProcess.run(["add", "-w", planets.appendingPathComponent("mars.txt").path, planets.appendingPathComponent("mars.txt").path])
        #expect(clash.status != 0)
        #expect(clash.stderr.contains("mars.txt"))
    }

    /// Several arguments without `-w`: each is its own root, its directories after its files.
    @Test func severalArguments() throws {
        let parent = try makeTemporaryDirectory("cli-many")
        defer { try? FileManager.default.removeItem(at: parent) }
        let a = parent.appendingPathComponent("a"), b = parent.appendingPathComponent("b.txt")
        try FileManager.default.createDirectory(at: a.appendingPathComponent("empty"), withIntermediateDirectories: true)
        try Data("hello world\n".utf8).write(to: b)
        let run = try CairnProcess.run(["add", "-r", a.path, b.path])
        // a/empty and a: real Kubo v0.22 (shared/tools/kubo-reference.py on this same tree, an
        // empty dir `empty` inside `a`); b.txt: external-vectors.md B1 ("hello world\n").
        #expect(run.stdoutText == """
            added QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn a/empty
            added QmPZLJ3CZYgxH4K1w5jdbAdxJynXn5TCB4kHy7u8uHC3fy a
            added QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o b.txt\n
            """)
        let json = try CairnProcess.run(["add", "-r", "--json", a.path])
        let objects = try json.stdoutText.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String])
        }
        #expect(objects.map { $0["Name"] } == ["a/empty", "a"])
        #expect(objects.first?["Hash"] == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn")
        #expect(objects.first?["Size"] == "4")
        let refused = try CairnProcess.run(["add", a.path])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("-r"))
    }

    /// Hidden entries only with `-H`; a hidden argument itself is always added.
    @Test func hiddenEntries() throws {
        let parent = try makeTemporaryDirectory("cli-hidden")
        defer { try? FileManager.default.removeItem(at: parent) }
        let top = parent.appendingPathComponent(".top")
        try FileManager.default.createDirectory(at: top.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try Data("Hello Mars!\n".utf8).write(to: top.appendingPathComponent("mars.txt"))
        try Data("Hello Venus!\n".utf8).write(to: top.appendingPathComponent(".venus.txt"))
        let plain = try CairnProcess.run(["add", "-r", top.path])
        let plainPaths: [String] = Self.lines(plain).map(\.path)
        #expect(plainPaths == [".top/mars.txt", ".top"])
        let hidden = try CairnProcess.run(["add", "-r", "-H", top.path])
        #expect(Self.lines(hidden).map(\.path) == [".top/.venus.txt", ".top/mars.txt", ".top/.git", ".top"])
        #expect(Self.lines(hidden).last?.cid != Self.lines(plain).last?.cid)
    }

    /// Names with a newline, a backslash, a tab and invalid UTF-8 are escaped like Kubo's
    /// `cmdenv.EscNonPrint` (Go `strconv.Quote` without the quotes): one line per entry.
    @Test func hostileNames() throws {
        let parent = try makeTemporaryDirectory("cli-hostile")
        defer { try? FileManager.default.removeItem(at: parent) }
        let top = parent.appendingPathComponent("h")
        try FileManager.default.createDirectory(at: top, withIntermediateDirectories: true)
        for name in ["new\nline", "back\\slash", "tab\there", "quote\"d"] {
            try Data(name.utf8).write(to: top.appendingPathComponent(name))
        }
        let raw: [UInt8] = Array((top.path + "/bad").utf8) + [0xFF]
        let cString: [CChar] = raw.map { CChar(bitPattern: $0) } + [0]
        let fd = open(cString, O_CREAT | O_WRONLY, 0o644)
        try #require(fd >= 0)
        close(fd)
        let run = try CairnProcess.run(["add", "-r", top.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.lines(run).map(\.path) == ["h/back\\\\slash", "h/bad\\xff", "h/new\\nline", "h/quote\"d", "h/tab\\there", "h"])
        let json = try CairnProcess.run(["add", "-r", "--json", top.path])
        for line in json.stdoutText.split(separator: "\n") {
            #expect(try JSONSerialization.jsonObject(with: Data(line.utf8)) is [String: String], "\(line)")
        }
    }
}
