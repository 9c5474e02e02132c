import CairnTestSupport
import Foundation
import Multiformats
import Testing

import CairnSystem

/// `cairn add` flags around the DAG, end to end through the built binary: `--cid-base` and
/// `--upgrade-cidv0-in-output`, `--ignore`/`--ignore-rules-path`, `--empty-dirs`,
/// `--dereference-args`/`--dereference-symlinks`, `--silent`, `-p/--progress`.
///
/// Expected values are computed without the flag under test: the default run's CIDs are
/// re-encoded by the Python `multiformats` package; filtered trees are compared with copies the test prunes
/// itself; dereferenced trees with `cp -rL` copies; and those copies with real Kubo.
@Suite struct AddFlagsCommandTests {
    static func lines(_ result: CairnProcess.Result) -> [(cid: String, path: String)] {
        result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { line in
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            return (parts.count > 1 ? String(parts[1]) : "", parts.count > 2 ? String(parts[2]) : "")
        }
    }

    static func write(_ text: String, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    static func mkdir(_ url: URL) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    static func symlink(_ url: URL, to target: String) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: target)
    }

    /// A copy of `root` named `name` beside it, without `removed` (relative paths).
    static func prunedCopy(of root: URL, named name: String, removing removed: [String]) throws -> URL {
        let copy = root.deletingLastPathComponent().appendingPathComponent(name)
        try FileManager.default.copyItem(at: root, to: copy)
        for path in removed { try FileManager.default.removeItem(at: copy.appendingPathComponent(path)) }
        return copy
    }

    /// `cp -rL`: a copy with every symlink replaced by what it points to (coreutils, not Cairn).
    static func dereferencedCopy(of root: URL, named name: String) throws -> URL {
        let copy = root.deletingLastPathComponent().appendingPathComponent(name)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["cp", "-rL", root.path, copy.path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "cp -rL failed")
        return copy
    }

    /// The root CID `cairn add -r -Q -n` prints for `url` with `flags`.
    static func root(_ url: URL, _ flags: [String] = []) throws -> String {
        let run = try CairnProcess.run(["add", "-r", "-Q", "-n"] + flags + [url.path])
        try #require(run.status == 0, "cairn add \(flags) failed: \(run.stderr)")
        return run.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: --cid-base

    /// A small tree: CIDv0 dag-pb files and directories (and CIDv1 raw leaves with -cid-version=1).
    static func makeSmallTree(in parent: URL) throws -> URL {
        let top = parent.appendingPathComponent("small")
        try write("hello world\n", to: top.appendingPathComponent("hello.txt"))
        try write("nested\n", to: top.appendingPathComponent("d/n.txt"))
        try mkdir(top.appendingPathComponent("d/empty"))
        return top
    }

    /// `cids` as the Python `multiformats` package (in the venv, PIP_PACKAGES' aleph-cid brings
    /// it) writes them with CID version `version` in multibase `base`: the oracle for
    /// `--cid-base` and `--upgrade-cidv0-in-output`, independent of Cairn's Multiformats.
    static func pythonCIDs(_ cids: [String], version: Int, base: String) throws -> [String] {
        try #require(VenvPython.isAvailable, "no \(VenvPython.python.path): run `make venv`")
        let script = "import sys\nfrom multiformats import CID\nfor a in sys.argv[3:]: print(CID.decode(a).set(version=int(sys.argv[2]), base=sys.argv[1]))"
        let run = try VenvPython.run(["-c", script, base, String(version)] + cids)
        try #require(run.status == 0, "python multiformats failed on \(cids) \(base)")
        return run.stdout.split(separator: "\n").map(String.init)
    }

    static func pythonCID(_ cid: String, version: Int, base: String) throws -> String {
        try #require(try pythonCIDs([cid], version: version, base: base).first)
    }

    /// Every CID printed with `--cid-base` (lines, `-q`, `-Q`, `--json`) parses back to the CID
    /// of the plain run, CIDv0 upgraded to CIDv1 (Kubo's cidenc `Upgrade`), and starts with the
    /// base's prefix character.
    @Test(arguments: ["base32", "base36", "base58btc", "base64url", "base16", "base32upper", "base58flickr", "k"])
    func cidBaseOnEveryOutput(base: String) throws {
        let parent = try makeTemporaryDirectory("cli-cid-base")
        defer { try? FileManager.default.removeItem(at: parent) }
        let top = try Self.makeSmallTree(in: parent)
        // The multibase table's name for the one-character form `k`.
        let baseName = base == "k" ? "base36" : base
        for version in [[], ["--cid-version=1"]] {
            let plain = try CairnProcess.run(["add", "-r", "-n"] + version + [top.path])
            let based = try CairnProcess.run(["add", "-r", "-n", "--cid-base", base] + version + [top.path])
            try #require(plain.status == 0 && based.status == 0, "\(based.stderr)")
            let plainLines = Self.lines(plain), basedLines = Self.lines(based)
            #expect(basedLines.map(\.path) == plainLines.map(\.path))
            #expect(plainLines.count == 5)
            let expected = try Self.pythonCIDs(plainLines.map(\.cid), version: 1, base: baseName)
            #expect(basedLines.map(\.cid) == expected, "--cid-base \(base) \(version)")
            let quiet = try CairnProcess.run(["add", "-r", "-n", "-q", "--cid-base=\(base)"] + version + [top.path])
            #expect(quiet.stdoutText == basedLines.map { $0.cid + "\n" }.joined())
            let quieter = try CairnProcess.run(["add", "-r", "-n", "-Q", "--cid-base=\(base)"] + version + [top.path])
            #expect(quieter.stdoutText == (basedLines.last?.cid ?? "-") + "\n")
            let json = try CairnProcess.run(["add", "-r", "-n", "--json", "--cid-base", base] + version + [top.path])
            let hashes = try json.stdoutText.split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String])["Hash"] ?? ""
            }
            #expect(hashes == basedLines.map(\.cid))
        }
    }

    /// `--upgrade-cidv0-in-output` (Kubo `cmdenv.GetCidEncoder`): set, it wins over the
    /// `--cid-base` default; alone it upgrades to base32. Any `--cid-base`, base58btc included,
    /// upgrades. CIDv1 is never touched. Published vector: t0040-add-and-cat.sh
    /// `ipfs add --cid-base=base32` of "base32 test\n" (external-vectors.md).
    @Test func upgradeCIDv0InOutput() throws {
        let parent = try makeTemporaryDirectory("cli-upgrade")
        defer { try? FileManager.default.removeItem(at: parent) }
        let file = parent.appendingPathComponent("base32-test.txt")
        try Self.write("base32 test\n", to: file)
        func line(_ flags: [String]) throws -> String {
            let run = try CairnProcess.run(["add", "-n"] + flags + [file.path])
            try #require(run.status == 0, "\(flags): \(run.stderr)")
            return run.stdoutText
        }
        let b32 = "bafybeibyosqxljd2eptb4ebbtvk7pb4aoxzqa6ttdsflty6rsslz5y6i34"
        #expect(try line(["--cid-base=base32"]) == "added \(b32) base32-test.txt\n")
        let v0 = try Self.pythonCID(b32, version: 0, base: "base58btc")
        #expect(try line([]) == "added \(v0) base32-test.txt\n")
        #expect(try line(["--cid-base=base32", "--upgrade-cidv0-in-output=false"]) == "added \(v0) base32-test.txt\n")
        #expect(try line(["--upgrade-cidv0-in-output"]) == "added \(b32) base32-test.txt\n")
        #expect(try line(["--upgrade-cidv0-in-output=true"]) == "added \(b32) base32-test.txt\n")
        let z = try line(["--cid-base=base58btc"])
        #expect(z == "added \(try Self.pythonCID(b32, version: 1, base: "base58btc")) base32-test.txt\n")
        #expect(z.hasPrefix("added zdj7"))
        let v1 = try line(["--cid-version=1", "--cid-base=base36", "--upgrade-cidv0-in-output=false"])
        let raw = String(try line(["--cid-version=1"]).split(separator: " ")[1])
        #expect(v1 == "added \(try Self.pythonCID(raw, version: 1, base: "base36")) base32-test.txt\n")

        // Unnamed standard input is named by its CID in the default text form (Kubo's
        // `addNode` uses `Cid().String()`); the CID column follows --cid-base.
        let stdin = try CairnProcess.run(["add", "-n", "--cid-base=base36", "-"], stdin: Data("base32 test\n".utf8))
        #expect(stdin.stdoutText == "added \(try Self.pythonCID(b32, version: 1, base: "base36")) \(v0)\n")
    }

    @Test(arguments: [["--cid-base=base99"], ["--cid-base", "identity"], ["--cid-base=Q"], ["--upgrade-cidv0-in-output=maybe"]])
    func badCIDBase(flags: [String]) throws {
        let run = try CairnProcess.run(["add", "-n"] + flags + ["-"], stdin: Data("x".utf8))
        #expect(run.status == 64, "usage error: \(run.stderr)")
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.split(separator: "\n").count == 1, "one line: \(run.stderr)")
        #expect(run.stderr.hasPrefix("Error: "))
    }

    // MARK: --ignore, --ignore-rules-path, --empty-dirs

    /// keep.txt, a.log, build/out, cache (a file), empty/, only/empty/, logs/x.log, sub/b.log,
    /// sub/c.txt, sub/tmp.swp
    static func makeFilterTree(in parent: URL) throws -> URL {
        let top = parent.appendingPathComponent("tree")
        try write("keep\n", to: top.appendingPathComponent("keep.txt"))
        try write("log\n", to: top.appendingPathComponent("a.log"))
        try write("out\n", to: top.appendingPathComponent("build/out"))
        try write("a file named cache\n", to: top.appendingPathComponent("cache"))
        try mkdir(top.appendingPathComponent("empty"))
        try mkdir(top.appendingPathComponent("only/empty"))
        try write("x\n", to: top.appendingPathComponent("logs/x.log"))
        try write("b\n", to: top.appendingPathComponent("sub/b.log"))
        try write("c\n", to: top.appendingPathComponent("sub/c.txt"))
        try write("swap\n", to: top.appendingPathComponent("sub/tmp.swp"))
        return top
    }

    /// Rules from a file and from `--ignore` (file first, flags after: the last match wins).
    @Test func ignoreRules() throws {
        let parent = try makeTemporaryDirectory("cli-ignore")
        defer { try? FileManager.default.removeItem(at: parent) }
        let top = try Self.makeFilterTree(in: parent)
        let rulesFile = parent.appendingPathComponent("rules")
        try Self.write("# build outputs\nbuild/\ncache/\n*.log\n", to: rulesFile)
        let flags = ["--ignore-rules-path", rulesFile.path, "--ignore", "*.swp", "--ignore=!b.log"]
        let run = try CairnProcess.run(["add", "-r", "-n"] + flags + [top.path])
        #expect(run.status == 0, "\(run.stderr)")
        let expected = try Self.prunedCopy(of: top, named: "expected", removing: ["a.log", "build", "logs/x.log", "sub/tmp.swp"])
        let printed = Self.lines(run)
        #expect(printed.last?.cid == (try Self.root(expected)))
        let paths = Set(printed.map(\.path))
        #expect(paths.contains("tree/sub/b.log") && paths.contains("tree/cache") && paths.contains("tree/logs"))
        #expect(!paths.contains("tree/a.log") && !paths.contains("tree/build") && !paths.contains("tree/sub/tmp.swp"))
        // Explicit arguments are never filtered.
        let named = try CairnProcess.run(["add", "-n", "--ignore", "*.log", top.appendingPathComponent("a.log").path])
        #expect(named.stdoutText.hasSuffix(" a.log\n"), "\(named.stderr)")
        // An unreadable rules file: one line naming it, nothing printed.
        let missing = parent.appendingPathComponent("no-such-rules").path
        let refused = try CairnProcess.run(["add", "-r", "-n", "--ignore-rules-path", missing, top.path])
        #expect(refused.status != 0)
        #expect(refused.stdout.isEmpty)
        #expect(refused.stderr.contains(missing) && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
    }

    /// `--empty-dirs=false`: no empty directory below the argument, also after filtering and
    /// recursively; the argument itself is always added. `-E` and `--empty-dirs` keep them.
    @Test func emptyDirectories() throws {
        let parent = try makeTemporaryDirectory("cli-empty")
        defer { try? FileManager.default.removeItem(at: parent) }
        let top = try Self.makeFilterTree(in: parent)
        let expected = try Self.prunedCopy(of: top, named: "expected", removing: ["empty", "only"])
        #expect(try Self.root(top, ["--empty-dirs=false"]) == (try Self.root(expected)))
        let both = try Self.prunedCopy(of: top, named: "expected-both", removing: ["empty", "only", "logs", "a.log", "sub/b.log"])
        #expect(try Self.root(top, ["--empty-dirs=false", "--ignore", "*.log"]) == (try Self.root(both)))
        let withEmpty = try Self.root(top)
        #expect(try Self.root(top, ["-E"]) == withEmpty)
        #expect(try Self.root(top, ["--empty-dirs"]) == withEmpty)
        #expect(try Self.root(top, ["--empty-dirs=true"]) == withEmpty)
        #expect(withEmpty != (try Self.root(expected)))
        let lines = Self.lines(try CairnProcess.run(["add", "-r", "-n", "--empty-dirs=false", top.path]))
        #expect(!lines.contains { $0.path.hasPrefix("tree/only") || $0.path == "tree/empty" })
        // The empty directory (UnixFS spec and Kubo: QmUNLLsP…) as the argument stays.
        let lonely = try CairnProcess.run(["add", "-r", "-n", "--empty-dirs=false", top.appendingPathComponent("only").path])
        #expect(lonely.stdoutText == "added QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn only\n")
    }

    // MARK: --dereference-args, --dereference-symlinks

    /// linked/: target.txt, dir/inner.txt, link-file → target.txt, link-dir → dir,
    /// sub/up → ../target.txt, chain → link-file.
    static func makeLinkedTree(in parent: URL) throws -> URL {
        let top = parent.appendingPathComponent("linked")
        try write("target content\n", to: top.appendingPathComponent("target.txt"))
        try write("inner\n", to: top.appendingPathComponent("dir/inner.txt"))
        try symlink(top.appendingPathComponent("link-file"), to: "target.txt")
        try symlink(top.appendingPathComponent("link-dir"), to: "dir")
        try symlink(top.appendingPathComponent("sub/up"), to: "../target.txt")
        try symlink(top.appendingPathComponent("chain"), to: "link-file")
        return top
    }

    @Test func dereference() throws {
        let parent = try makeTemporaryDirectory("cli-deref")
        defer { try? FileManager.default.removeItem(at: parent) }
        let top = try Self.makeLinkedTree(in: parent)
        let copy = try Self.dereferencedCopy(of: top, named: "copy")
        #expect(try Self.root(top, ["--dereference-symlinks"]) == (try Self.root(copy)))
        #expect(try Self.root(top, ["--dereference-symlinks", "--cid-version=1"]) == (try Self.root(copy, ["--cid-version=1"])))
        let stored = try Self.root(top)
        #expect(stored != (try Self.root(copy)))
        #expect(try Self.root(top, ["--dereference-args"]) == stored, "only arguments are followed")

        // A symlink argument: the target's content, named after the target (Kubo resolves the
        // argument with filepath.EvalSymlinks and prints its base name).
        let target = try CairnProcess.run(["add", "-n", top.appendingPathComponent("target.txt").path])
        let targetCID = try #require(Self.lines(target).first?.cid)
        for flag in ["--dereference-args", "--dereference-symlinks"] {
            let followed = try CairnProcess.run(["add", "-n", flag, top.appendingPathComponent("chain").path])
            #expect(followed.stdoutText == "added \(targetCID) target.txt\n", "\(flag): \(followed.stderr)")
            let directory = try CairnProcess.run(["add", "-r", "-n", "-Q", flag, top.appendingPathComponent("link-dir").path])
            #expect(directory.stdoutText == (try Self.root(top.appendingPathComponent("dir"))) + "\n")
        }
        let link = try CairnProcess.run(["add", "-n", top.appendingPathComponent("chain").path])
        #expect(link.stdoutText.hasSuffix(" chain\n") && Self.lines(link).first?.cid != targetCID, "stored as a symlink")

        // Errors: one line, non-zero, nothing printed.
        let broken = parent.appendingPathComponent("broken")
        try Self.write("x\n", to: broken.appendingPathComponent("file"))
        try Self.symlink(broken.appendingPathComponent("dangling"), to: "nowhere")
        let cycle = parent.appendingPathComponent("cycle")
        try Self.write("x\n", to: cycle.appendingPathComponent("d/file"))
        try Self.symlink(cycle.appendingPathComponent("d/back"), to: "..")
        for (arguments, phrase) in [
            (["-r", "--dereference-symlinks", broken.path], "cannot follow symlink"),
            (["--dereference-args", broken.appendingPathComponent("dangling").path], "cannot follow symlink"),
            (["-r", "--dereference-symlinks", cycle.path], "symlink cycle"),
        ] {
            let run = try CairnProcess.run(["add", "-n"] + arguments)
            #expect(run.status == 1)
            #expect(run.stdout.isEmpty)
            #expect(run.stderr.contains(phrase) && run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        }
        #expect(try Self.root(broken).hasPrefix("Qm"), "without dereferencing a dangling link is stored")
    }

    // MARK: --silent, -p/--progress

    @Test func silentAndProgress() throws {
        let parent = try makeTemporaryDirectory("cli-silent")
        defer { try? FileManager.default.removeItem(at: parent) }
        let top = try Self.makeSmallTree(in: parent)
        let big = parent.appendingPathComponent("big")
        try Data(SplitMix64.bytes(seed: 7, count: 3 << 20)).write(to: big)
        let escape = "\u{1B}[2K"
        for flags in [["--silent"], ["--silent", "-Q"], ["--silent", "--json"]] {
            let run = try CairnProcess.run(["add", "-r", "-n"] + flags + [top.path])
            #expect(run.status == 0 && run.stdout.isEmpty && run.stderr.isEmpty, "\(flags): \(run.stdoutText) \(run.stderr)")
        }
        // Silent still fails loudly.
        let failing = try CairnProcess.run(["add", "--silent", "-n", parent.appendingPathComponent("missing").path])
        #expect(failing.status != 0 && failing.stderr.contains("missing"))
        // Stored and pinned while silent: the store has the root afterwards.
        let home = parent.appendingPathComponent("store")
        let stored = try CairnProcess.run(["add", "--silent", big.path], environment: ["CAIRN_HOME": home.path])
        #expect(stored.status == 0 && stored.stdout.isEmpty)
        let rootCID = try Self.root(big)
        let pins = try CairnProcess.run(["pin", "ls"], environment: ["CAIRN_HOME": home.path])
        #expect(pins.stdoutText.contains(rootCID), "\(pins.stdoutText) \(pins.stderr)")

        // Progress: off by default when stderr is a pipe, forced on by -p / --progress, off by
        // --progress=false; -p also with -q (Kubo: an explicit -p survives -q).
        let plain = try CairnProcess.run(["add", "-n", big.path])
        #expect(!plain.stderr.contains(escape))
        for flags in [["-p"], ["--progress"], ["--progress=true"], ["-q", "-p"], ["-Q", "--progress"], ["--silent", "-p"]] {
            let run = try CairnProcess.run(["add", "-n"] + flags + [big.path])
            #expect(run.status == 0 && run.stderr.contains(escape), "\(flags): \(run.stderr)")
            #expect(run.stderr.contains("big: "), "\(flags): the bar names the file")
            #expect(!run.stdoutText.contains(escape), "the bar never goes to stdout")
        }
        let off = try CairnProcess.run(["add", "-n", "--progress=false", big.path])
        #expect(!off.stderr.contains(escape))
        #expect(off.stdoutText == plain.stdoutText)
    }

    // MARK: Real Kubo

    /// The filtered and dereferenced adds equal real Kubo's default add of the copies the test
    /// made (Kubo v0.22 through shared/tools/kubo-reference.py; it has no filter flags, so the
    /// copies carry the filtering).
    @Test func filteredTreesMatchKubo() throws {
        guard FileManager.default.isExecutableFile(atPath: KuboReference.python.path) else {
            Issue.record("no \(KuboReference.python.path): run `make test` (it creates .venv with kubo-python)")
            return
        }
        let parent = try makeTemporaryDirectory("cli-kubo-flags")
        defer { try? FileManager.default.removeItem(at: parent) }
        let filterTree = try Self.makeFilterTree(in: parent)
        let pruned = try Self.prunedCopy(of: filterTree, named: "pruned", removing: [
            "empty", "only", "logs", "a.log", "sub/b.log", "build", "cache",
        ])
        let linked = try Self.makeLinkedTree(in: parent)
        let copy = try Self.dereferencedCopy(of: linked, named: "copy")

        let kubo = try KuboReference.run([pruned.path, copy.path])
        if kubo.couldNotIsolate {
            Issue.record("kubo-reference could not run (unshare -n needs root or CAP_SYS_ADMIN)")
            return
        }
        let text = kubo.stdout
        var theirs: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            if parts.count == 2 { theirs[String(parts[1])] = String(parts[0]) }
        }
        let kuboPruned = try #require(theirs[pruned.path], "Kubo printed: \(text)")
        let kuboCopy = try #require(theirs[copy.path], "Kubo printed: \(text)")
        #expect(try Self.root(filterTree, ["--empty-dirs=false", "--ignore=*.log", "--ignore", "build/", "--ignore", "cache"]) == kuboPruned)
        #expect(try Self.root(linked, ["--dereference-symlinks"]) == kuboCopy)
    }
}
