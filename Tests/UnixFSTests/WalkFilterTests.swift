import CairnTestSupport
import Foundation
import Multiformats
import Testing
@testable import UnixFS
@testable import Blocks

import CairnSystem

/// The walk options of `TreeImporter`: ignore rules, empty directories, dereferenced symlinks.
/// Expected roots never come from the option under test: the test removes the entries itself
/// (or writes the followed targets as plain files and directories) and imports that tree with
/// the default walk.
@Suite struct WalkFilterTests {
    /// A tree with entries for every filter:
    ///
    ///     keep.txt  drop.log  .hidden  cache (a file)  empty/
    ///     build/out.bin  nested/only-empty/deeper/  onlyhidden/.h  onlyignored/x.log
    ///     sub/a.txt  sub/b.log  sub/keep.tmp  sub/x.tmp
    static func makeTree(at root: URL) throws {
        func file(_ path: String, _ text: String) throws {
            try TreeFixtures.write(Array(text.utf8), to: root.appendingPathComponent(path))
        }
        func directory(_ path: String) throws {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(path), withIntermediateDirectories: true)
        }
        try file("keep.txt", "keep\n")
        try file("drop.log", "log\n")
        try file(".hidden", "hidden\n")
        try file("cache", "a file named cache\n")
        try directory("empty")
        try file("build/out.bin", "binary\n")
        try directory("nested/only-empty/deeper")
        try file("onlyhidden/.h", "h\n")
        try file("onlyignored/x.log", "x\n")
        try file("sub/a.txt", "a\n")
        try file("sub/b.log", "b\n")
        try file("sub/keep.tmp", "keep tmp\n")
        try file("sub/x.tmp", "x tmp\n")
    }

    /// A copy of the tree at `name` beside it, without `removed` (relative paths).
    static func prunedCopy(of root: URL, named name: String, removing removed: [String]) throws -> URL {
        let copy = root.deletingLastPathComponent().appendingPathComponent(name)
        try FileManager.default.copyItem(at: root, to: copy)
        for path in removed { try FileManager.default.removeItem(at: copy.appendingPathComponent(path)) }
        return copy
    }

    static func importRoot(_ url: URL, parameters: ImportParameters = .kuboDefault, configure: (inout TreeImporter) -> Void = { _ in })
        throws -> (root: AddedEntry, paths: [String])
    {
        var importer = try TreeImporter(parameters: parameters, threads: 2)
        configure(&importer)
        var sink = DiscardingSink()
        var paths: [String] = []
        let root = try importer.importPath(url.path, recursive: true, into: &sink) { entry in
            let path = String(decoding: entry.path, as: UTF8.self)
            paths.append(path.firstIndex(of: "/").map { String(path[$0...]) } ?? "/")
        }
        return (root, paths)
    }

    static let rules = IgnoreRules(["*.log", "build/", "cache/", "*.tmp", "!keep.tmp"])

    /// `--ignore`: the filtered tree equals the tree with the ignored entries deleted; a
    /// dir-only rule leaves a file of that name alone; `!` re-includes.
    @Test(arguments: [ImportParameters.kuboDefault, try! ImportOptions(kuboArguments: ["--cid-version=1"]).resolve()])
    func ignoreRules(parameters: ImportParameters) throws {
        let parent = try makeTemporaryDirectory("walk-ignore")
        defer { TreeFixtures.remove(parent) }
        let tree = parent.appendingPathComponent("tree")
        try Self.makeTree(at: tree)
        let expected = try Self.prunedCopy(of: tree, named: "expected",
                                           removing: ["drop.log", "build", "onlyignored/x.log", "sub/b.log", "sub/x.tmp"])
        let filtered = try Self.importRoot(tree, parameters: parameters) { $0.ignoreRules = Self.rules }
        let reference = try Self.importRoot(expected, parameters: parameters)
        #expect(filtered.root.result == reference.root.result)
        #expect(filtered.paths == reference.paths, "the same entries are reported")
        #expect(!filtered.paths.contains("/drop.log") && filtered.paths.contains("/cache") && filtered.paths.contains("/sub/keep.tmp"))
        let unfiltered = try Self.importRoot(tree, parameters: parameters)
        #expect(unfiltered.root.result.root != filtered.root.result.root)
    }

    /// Hidden names go first (Kubo's filter checks them before the rules): a negated rule
    /// cannot bring a hidden entry back; with `-H` it is added, and rules still apply to it.
    @Test func hiddenBeforeRules() throws {
        let parent = try makeTemporaryDirectory("walk-hidden")
        defer { TreeFixtures.remove(parent) }
        let tree = parent.appendingPathComponent("tree")
        try Self.makeTree(at: tree)
        let plain = try Self.importRoot(tree)
        let negated = try Self.importRoot(tree) { $0.ignoreRules = IgnoreRules(["!.hidden"]) }
        #expect(negated.root.result == plain.root.result)
        let hiddenIgnored = try Self.importRoot(tree) {
            $0.includeHidden = true
            $0.ignoreRules = IgnoreRules([".h*"])
        }
        #expect(hiddenIgnored.root.result == plain.root.result, "-H with .h* ignored adds exactly what the default adds")
    }

    /// `--empty-dirs=false`: directories left with no entry (empty on disk, only hidden or
    /// ignored entries, only empty directories — recursively) are dropped; the argument is not.
    @Test func emptyDirectories() throws {
        let parent = try makeTemporaryDirectory("walk-empty")
        defer { TreeFixtures.remove(parent) }
        let tree = parent.appendingPathComponent("tree")
        try Self.makeTree(at: tree)

        let noEmpty = try Self.importRoot(tree) { $0.includeEmptyDirectories = false }
        let expected = try Self.prunedCopy(of: tree, named: "expected", removing: ["empty", "nested", "onlyhidden"])
        let reference = try Self.importRoot(expected)
        #expect(noEmpty.root.result == reference.root.result)
        #expect(noEmpty.paths == reference.paths)

        let both = try Self.importRoot(tree) {
            $0.includeEmptyDirectories = false
            $0.ignoreRules = Self.rules
        }
        let expectedBoth = try Self.prunedCopy(of: tree, named: "expected-both", removing: [
            "empty", "nested", "onlyhidden", "onlyignored", "drop.log", "build", "sub/b.log", "sub/x.tmp",
        ])
        let referenceBoth = try Self.importRoot(expectedBoth)
        #expect(both.root.result == referenceBoth.root.result)
        #expect(!both.paths.contains("/onlyignored") && !both.paths.contains("/nested/only-empty"))

        // The default keeps them all.
        let kept = try Self.importRoot(tree)
        #expect(kept.paths.contains("/nested/only-empty/deeper") && kept.paths.contains("/empty"))

        // The argument itself is always added, even empty (the UnixFS empty directory,
        // published as QmUNLLsP… in the UnixFS spec and Kubo's tests).
        let lonely = parent.appendingPathComponent("lonely/inner/deeper")
        try FileManager.default.createDirectory(at: lonely, withIntermediateDirectories: true)
        let top = try Self.importRoot(parent.appendingPathComponent("lonely")) { $0.includeEmptyDirectories = false }
        #expect(top.root.result.root.description == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn")
        #expect(top.paths == ["/"])
    }

    /// A tree with symlinks, and the same tree with each symlink replaced by what it points to.
    static func makeLinkedTrees(in parent: URL) throws -> (linked: URL, plain: URL) {
        let linked = parent.appendingPathComponent("linked")
        let plain = parent.appendingPathComponent("plain")
        for root in [linked, plain] {
            try TreeFixtures.write(Array("target content\n".utf8), to: root.appendingPathComponent("target.txt"))
            try TreeFixtures.write(Array("inner\n".utf8), to: root.appendingPathComponent("dir/inner.txt"))
            try TreeFixtures.write(Array("deep\n".utf8), to: root.appendingPathComponent("dir/deeper/deep.txt"))
        }
        try TreeFixtures.symlink(linked.appendingPathComponent("link-file"), to: "target.txt")
        try TreeFixtures.symlink(linked.appendingPathComponent("link-dir"), to: "dir")
        try TreeFixtures.symlink(linked.appendingPathComponent("sub/up-link"), to: "../target.txt")
        try TreeFixtures.symlink(linked.appendingPathComponent("chain"), to: "link-file")
        try TreeFixtures.write(Array("target content\n".utf8), to: plain.appendingPathComponent("link-file"))
        try TreeFixtures.write(Array("target content\n".utf8), to: plain.appendingPathComponent("chain"))
        try TreeFixtures.write(Array("target content\n".utf8), to: plain.appendingPathComponent("sub/up-link"))
        try TreeFixtures.write(Array("inner\n".utf8), to: plain.appendingPathComponent("link-dir/inner.txt"))
        try TreeFixtures.write(Array("deep\n".utf8), to: plain.appendingPathComponent("link-dir/deeper/deep.txt"))
        return (linked, plain)
    }

    /// `--dereference-symlinks`: every symlink becomes what it points to; the tree equals its
    /// plain copy. Without it the links stay links; `--dereference-args` leaves inner links.
    @Test func dereferenceSymlinks() throws {
        let parent = try makeTemporaryDirectory("walk-deref")
        defer { TreeFixtures.remove(parent) }
        let (linked, plain) = try Self.makeLinkedTrees(in: parent)
        let followed = try Self.importRoot(linked) { $0.symlinks = .followAll }
        let reference = try Self.importRoot(plain)
        #expect(followed.root.result == reference.root.result)
        #expect(followed.paths == reference.paths)

        let stored = try Self.importRoot(linked)
        let arguments = try Self.importRoot(linked) { $0.symlinks = .followArguments }
        #expect(stored.root.result != reference.root.result)
        #expect(arguments.root.result == stored.root.result, "--dereference-args does not follow links below the argument")
    }

    /// A symlink given as the argument: followed with either flag, named after its target
    /// (Kubo resolves arguments with filepath.EvalSymlinks, then takes the base name).
    @Test func dereferenceArguments() throws {
        let parent = try makeTemporaryDirectory("walk-deref-args")
        defer { TreeFixtures.remove(parent) }
        let (linked, _) = try Self.makeLinkedTrees(in: parent)
        for policy in [SymlinkPolicy.followArguments, .followAll] {
            var importer = try TreeImporter(parameters: .kuboDefault, threads: 1)
            importer.symlinks = policy
            var sink = DiscardingSink()
            let file = try importer.importPath(linked.appendingPathComponent("chain").path, recursive: false, into: &sink)
            let target = try TreeFixtures.fileRoot(Array("target content\n".utf8))
            #expect(file.result == target)
            #expect(file.kind == .file)
            #expect(file.path == Array("target.txt".utf8))
            let directory = try importer.importPath(linked.appendingPathComponent("link-dir").path, recursive: true, into: &sink)
            let direct = try TreeImporter(parameters: .kuboDefault, threads: 1)
                .importPath(linked.appendingPathComponent("dir").path, recursive: true, into: &sink)
            #expect(directory.result == direct.result)
            #expect(directory.path == Array("dir".utf8))
            #expect(throws: ImportError.self, "a directory still needs -r") {
                try importer.importPath(linked.appendingPathComponent("link-dir").path, recursive: false, into: &sink)
            }
        }
        var sink = DiscardingSink()
        let stored = try TreeImporter(parameters: .kuboDefault, threads: 1)
            .importPath(linked.appendingPathComponent("link-file").path, recursive: false, into: &sink)
        #expect(stored.kind == .symlink)
        #expect(stored.path == Array("link-file".utf8))
    }

    /// A followed entry carries its target's metadata (boxo stats the target).
    @Test func dereferencedMetadataIsTheTargets() throws {
        let parent = try makeTemporaryDirectory("walk-deref-meta")
        defer { TreeFixtures.remove(parent) }
        let target = parent.appendingPathComponent("t/file")
        try TreeFixtures.write(Array("payload\n".utf8), to: target)
        try TreeFixtures.chmod(target, 0o640)
        try TreeFixtures.setMtime(target, seconds: 1_600_000_000, nanoseconds: 5)
        let link = parent.appendingPathComponent("t/link")
        try TreeFixtures.symlink(link, to: "file")
        let parameters = try ImportOptions(kuboArguments: ["--preserve-mode", "--preserve-mtime"]).resolve()
        var importer = try TreeImporter(parameters: parameters, threads: 1)
        importer.symlinks = .followAll
        var sink = DiscardingSink()
        let followed = try importer.importPath(link.path, recursive: false, into: &sink)
        let direct = try TreeImporter(parameters: parameters, threads: 1).importPath(target.path, recursive: false, into: &sink)
        #expect(followed.result == direct.result)
    }

    /// Errors: a dangling symlink to follow, a symlink loop, a cycle back to a parent
    /// directory — each one line naming the path; without following, all are stored.
    @Test func dereferenceErrors() throws {
        let parent = try makeTemporaryDirectory("walk-deref-errors")
        defer { TreeFixtures.remove(parent) }
        func message(_ path: URL, _ policy: SymlinkPolicy, recursive: Bool = true) -> String? {
            var importer = try! TreeImporter(parameters: .kuboDefault, threads: 1)
            importer.symlinks = policy
            var sink = DiscardingSink()
            do {
                try importer.importPath(path.path, recursive: recursive, into: &sink)
                return nil
            } catch {
                return "\(error)"
            }
        }
        let dangling = parent.appendingPathComponent("dangling")
        try TreeFixtures.write(Array("x\n".utf8), to: dangling.appendingPathComponent("file"))
        try TreeFixtures.symlink(dangling.appendingPathComponent("gone"), to: "no-such-target")
        #expect(message(dangling, .store) == nil)
        #expect(message(dangling, .followArguments) == nil)
        let danglingError = try #require(message(dangling, .followAll))
        #expect(danglingError.contains("cannot follow symlink") && danglingError.contains("dangling/gone"))
        let danglingArgument = try #require(message(dangling.appendingPathComponent("gone"), .followArguments, recursive: false))
        #expect(danglingArgument.contains("cannot follow symlink"))

        let loop = parent.appendingPathComponent("loop")
        try TreeFixtures.symlink(loop.appendingPathComponent("a"), to: "b")
        try TreeFixtures.symlink(loop.appendingPathComponent("b"), to: "a")
        #expect(message(loop, .store) == nil)
        let loopError = try #require(message(loop, .followAll))
        #expect(loopError.contains("loop/a") && !loopError.contains("\n"))

        let cycle = parent.appendingPathComponent("cycle")
        try TreeFixtures.write(Array("x\n".utf8), to: cycle.appendingPathComponent("d/file"))
        try TreeFixtures.symlink(cycle.appendingPathComponent("d/back"), to: "..")
        #expect(message(cycle, .store) == nil)
        #expect(message(cycle, .followArguments) == nil)
        let cycleError = try #require(message(cycle, .followAll))
        #expect(cycleError.contains("symlink cycle") && cycleError.contains("cycle/d/back"))
        // Two links to the same directory that is not a parent are no cycle.
        let twice = parent.appendingPathComponent("twice")
        try TreeFixtures.write(Array("x\n".utf8), to: twice.appendingPathComponent("real/file"))
        try TreeFixtures.symlink(twice.appendingPathComponent("one"), to: "real")
        try TreeFixtures.symlink(twice.appendingPathComponent("two"), to: "real")
        #expect(message(twice, .followAll) == nil)
    }
}
