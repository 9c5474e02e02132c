import BlockStore
import CairnTestSupport
import Engine
import Foundation
import Multiformats
import Testing
import UnixFS

/// The Adder's events against the per-path CIDs of `shared/vectors/dirs` (Kubo v0.22), in the
/// order spec/engine.md gives: files depth first (names in byte order), then directories
/// children before parents, the argument's own directory last.
@Suite("Adder")
struct AdderTests {
    static func generate(_ tree: String, in parent: URL) throws -> URL {
        try Vectors.generateTree(tree, in: parent)
    }

    /// The expected `(path, CID)` events for `tree`, from its paths.tsv (CIDv0 column).
    static func expectedEvents(_ tree: String) throws -> [(path: String, cid: String)] {
        let rows = try Vectors.tsv("dirs/\(tree).paths.tsv")
        var children: [String: [String]] = [:]  // directory path → child paths
        var kinds: [String: String] = [:]
        var cids: [String: String] = [:]
        for row in rows {
            let path = row["path"]!
            kinds[path] = row["kind"]!
            cids[path] = row["cid_v0"]!
            guard path != "/" else { continue }
            let parent = String(path[..<path.lastIndex(of: "/")!])
            children[parent.isEmpty ? "/" : parent, default: []].append(path)
        }
        func name(_ path: String) -> [UInt8] { Array(path[path.index(after: path.lastIndex(of: "/")!)...].utf8) }
        var files: [String] = []
        var directories: [String] = []
        func walk(_ directory: String) {
            for child in (children[directory] ?? []).sorted(by: { name($0).lexicographicallyPrecedes(name($1)) }) {
                if kinds[child] == "dir" { walk(child) } else { files.append(child) }
            }
            directories.append(directory)
        }
        walk("/")
        let shown = { (path: String) in path == "/" ? tree : tree + path }
        return (files + directories).map { (path: shown($0), cid: cids[$0]!) }
    }

    static func adder() -> Adder {
        Adder(parameters: .kuboDefault, threads: 2, walk: WalkSettings(recursive: true))
    }

    @Test(arguments: ["basic", "nested"])
    func eventsInKuboOrder(tree: String) throws {
        let parent = try makeTemporaryDirectory("engine-adder")
        defer { try? FileManager.default.removeItem(at: parent) }
        let root = try Self.generate(tree, in: parent)
        var events: [(path: String, cid: String)] = []
        let last = try Self.adder().add([.path(root.path)], to: .nothing) { event in
            events.append((String(decoding: event.path ?? [], as: UTF8.self), event.result.root.description))
        }
        let expected = try Self.expectedEvents(tree)
        #expect(events.map(\.path) == expected.map(\.path))
        #expect(events.map(\.cid) == expected.map(\.cid))
        #expect(last.description == expected.last?.cid)
    }

    /// Into the store: when an input's events arrive, its blocks are committed and its root
    /// pinned under the name given.
    @Test func storeCommitsAndPinsBeforeEvents() throws {
        let parent = try makeTemporaryDirectory("engine-adder")
        defer { try? FileManager.default.removeItem(at: parent) }
        let root = try Self.generate("basic", in: parent)
        let store = try BlockStore(path: parent.path + "/store")
        let expected = try Self.expectedEvents("basic")
        var seen = 0
        var pinnedWhenSeen = false
        try Self.adder().add([.path(root.path)], to: .store(store, pin: true, pinName: "basic")) { event in
            seen += 1
            #expect(try store.getIfPresent(event.result.root) != nil)
            pinnedWhenSeen = try store.pins().contains { $0.cid.description == expected.last!.cid && $0.name == "basic" }
        }
        #expect(seen == expected.count)
        #expect(pinnedWhenSeen)
    }

    /// Into a CAR: events only once the CAR is at its path; `-w` wraps the inputs, the wrapper
    /// last, printed with an empty path.
    @Test func carIsInPlaceBeforeEvents() throws {
        let parent = try makeTemporaryDirectory("engine-adder")
        defer { try? FileManager.default.removeItem(at: parent) }
        let root = try Self.generate("basic", in: parent)
        let car = parent.path + "/out.car"
        var adder = Self.adder()
        adder.wrap = true
        var paths: [String] = []
        let wrapper = try adder.add([.path(root.path)], to: .car(path: car)) { event in
            #expect(FileManager.default.fileExists(atPath: car))
            paths.append(String(decoding: event.path ?? [], as: UTF8.self))
        }
        #expect(try paths == Self.expectedEvents("basic").map(\.path) + [""])
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path).sorted() == ["basic", "out.car"])
        #expect(wrapper.codec == .dagPB)
    }

    @Test func aCARNeedsOneRoot() throws {
        #expect {
            try Self.adder().add([.path("/a"), .path("/b")], to: .car(path: "/nonexistent/out.car")) { _ in }
        } throws: { error in
            (error as? EngineError)?.code == .invalidInput
        }
    }
}
