import CairnTestSupport
import Foundation

/// One command that writes, for the fault matrix (`FaultMatrixTests`): how to prepare a store
/// and inputs for it once (a template that every run copies), and the command to run there.
///
/// Layout of a run's folder ROOT: `ROOT/store` (the store), `ROOT/in` (inputs), `ROOT/out`
/// (the command's output, empty before the command runs).
struct FaultScenario: Sendable, CustomStringConvertible {
    /// What the setup produced: named CIDs, and the content acknowledged before the command
    /// (a root and the input file, under `ROOT`, whose bytes `cairn cat ROOT` must give).
    struct Prepared: Sendable {
        var cids: [String: String] = [:]
        var kept: [(cid: String, file: String)] = []
    }

    var name: String
    var setup: @Sendable (FaultSetup) throws -> Prepared
    /// The command's arguments, given the run's folder.
    var command: @Sendable (_ root: String, _ prepared: Prepared) -> [String]
    var stdin: Data?
    /// The command writes to the store (so it must still verify after a failure).
    var writesStore = true
    /// The store is damaged on purpose before the command (`store verify --drop-corrupt`,
    /// `store repair`): it verifies only once a rerun has done the command's work.
    var damagedUntilRerun = false
    /// Which failing call (kind, N) gives an error that a rerun may legitimately report: the
    /// command's effect was committed and only its acknowledgement on stdout failed.
    var committedBeforeOutput = false
    /// Files the command may leave in the store when it fails after its main step (`store
    /// repair`: the rebuilt index in place, its pinning of roots failed).
    var allowedStoreFiles: Set<String> = []
    /// A failed read is one of the problems the command reports (on stdout, then exit 1),
    /// not the error that ends it (`store verify`).
    var reportsFailuresAsProblems = false

    var description: String { name }

    /// The environment of every run: small packs, so small inputs cross pack boundaries.
    static let environment = ["CAIRN_TEST_PACK_SIZE_LIMIT": "65536"]
    static let chunker = ["--chunker", "size-16384"]

    static func store(_ root: String) -> [String] { ["--store", root + "/store"] }

    static let all: [FaultScenario] = [
        FaultScenario(name: "add", setup: { try $0.keptContent() }, command: { root, _ in
            ["add", "-r"] + chunker + [root + "/in/tree"] + store(root)
        }),
        FaultScenario(name: "add --car", setup: { _ in Prepared() }, command: { root, _ in
            ["add", "--car", root + "/out/x.car"] + chunker + [root + "/in/b"]
        }, writesStore: false),
        FaultScenario(name: "car create", setup: { _ in Prepared() }, command: { root, _ in
            ["car", "create", root + "/in/b", "-o", root + "/out/c.car"] + chunker
        }, writesStore: false),
        FaultScenario(name: "car import", setup: { fixture in
            var prepared = try fixture.keptContent()
            _ = try fixture.cairn(["car", "create", fixture.root + "/in/b", "-o", fixture.root + "/in/b.car"] + chunker)
            prepared.cids["b"] = try fixture.cairn(["add", "-Q", "-n"] + chunker + [fixture.root + "/in/b"])
            return prepared
        }, command: { root, _ in ["car", "import", root + "/in/b.car"] + store(root) }),
        FaultScenario(name: "car export", setup: { try $0.keptContent() }, command: { root, prepared in
            ["car", "export", prepared.kept[0].cid, "-o", root + "/out/e.car"] + store(root)
        }, writesStore: false),
        FaultScenario(name: "block put", setup: { try $0.keptContent() }, command: { root, _ in
            ["block", "put"] + store(root)
        }, stdin: Data(SplitMix64.bytes(seed: 1503, count: 3000))),
        FaultScenario(name: "pin add", setup: { fixture in
            var prepared = try fixture.keptContent()
            prepared.cids["b"] = try fixture.cairn(["add", "-Q", "--pin=false"] + chunker + [fixture.root + "/in/b"] + store(fixture.root))
            return prepared
        }, command: { root, prepared in ["pin", "add", prepared.cids["b"]!] + store(root) }),
        FaultScenario(name: "pin rm", setup: { try $0.keptContent() }, command: { root, prepared in
            ["pin", "rm", prepared.kept[0].cid] + store(root)
        }, committedBeforeOutput: true),
        FaultScenario(name: "pin update", setup: { fixture in
            var prepared = try fixture.keptContent()
            prepared.cids["b"] = try fixture.cairn(["add", "-Q", "--pin=false"] + chunker + [fixture.root + "/in/b"] + store(fixture.root))
            return prepared
        }, command: { root, prepared in ["pin", "update", prepared.kept[0].cid, prepared.cids["b"]!] + store(root) },
        committedBeforeOutput: true),
        FaultScenario(name: "gc", setup: { fixture in
            // Garbage before and after the kept content, so packs mix live and dead blocks.
            _ = try fixture.cairn(["add", "-Q", "--pin=false"] + chunker + [fixture.root + "/in/b"] + store(fixture.root))
            let prepared = try fixture.keptContent()
            _ = try fixture.cairn(["add", "-Q", "--pin=false", "--chunker", "size-5000", fixture.root + "/in/tree"] + ["-r"] + store(fixture.root))
            return prepared
        }, command: { root, _ in ["gc"] + store(root) }, committedBeforeOutput: true),
        FaultScenario(name: "store verify --drop-corrupt", setup: { fixture in
            let prepared = try fixture.keptContent()
            let victim = SplitMix64.bytes(seed: 1504, count: 4096)
            _ = try fixture.cairn(["block", "put"] + store(fixture.root), stdin: Data(victim))
            try fixture.flipByte(of: victim)
            return prepared
        }, command: { root, _ in ["store", "verify", "--drop-corrupt"] + store(root) },
        damagedUntilRerun: true, committedBeforeOutput: true, reportsFailuresAsProblems: true),
        FaultScenario(name: "store repair", setup: { fixture in
            let prepared = try fixture.keptContent()
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: fixture.root + "/store/index.sqlite" + suffix) }
            return prepared
        }, command: { root, _ in ["store", "repair", "--pin-roots"] + store(root) },
        damagedUntilRerun: true, committedBeforeOutput: true,
        allowedStoreFiles: ["index.sqlite", "index.sqlite-wal", "index.sqlite-shm"]),
        FaultScenario(name: "get", setup: { fixture in
            var prepared = try fixture.keptContent()
            prepared.cids["tree"] = try fixture.cairn(["add", "-Q", "-r"] + chunker + [fixture.root + "/in/tree"] + store(fixture.root))
            return prepared
        }, command: { root, prepared in ["get", prepared.cids["tree"]!, "-o", root + "/out/g"] + store(root) },
        writesStore: false),
    ]
}

/// The template folder of a scenario while it is being prepared.
struct FaultSetup {
    let root: String

    /// Writes the inputs every scenario may use: `in/a` (kept content), `in/b`, and `in/tree`
    /// (two files and a subfolder).
    func writeInputs() throws {
        let files: [(String, Int)] = [("a", 90_000), ("b", 70_000), ("tree/one", 40_000), ("tree/sub/two", 20_000), ("tree/sub/three", 100)]
        for (index, (name, size)) in files.enumerated() {
            let url = URL(fileURLWithPath: root + "/in/" + name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(SplitMix64.bytes(seed: 1500 + UInt64(index), count: size)).write(to: url)
        }
        try FileManager.default.createDirectory(atPath: root + "/out", withIntermediateDirectories: true)
    }

    /// `in/a` added and pinned: the content acknowledged before the command.
    func keptContent() throws -> FaultScenario.Prepared {
        let cid = try cairn(["add", "-Q"] + FaultScenario.chunker + [root + "/in/a"] + FaultScenario.store(root))
        return FaultScenario.Prepared(kept: [(cid, "in/a")])
    }

    /// Runs `cairn ARGUMENTS` (which must succeed) and returns its trimmed stdout.
    @discardableResult
    func cairn(_ arguments: [String], stdin: Data? = nil) throws -> String {
        let result = try CairnProcess.run(arguments, stdin: stdin, environment: FaultScenario.environment)
        guard result.status == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "setup: cairn \(arguments) failed: \(result.stderr)"])
        }
        return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Flips one byte in the middle of `block`'s bytes in the pack that holds them.
    func flipByte(of block: [UInt8]) throws {
        let packs = root + "/store/packs"
        for name in try FileManager.default.contentsOfDirectory(atPath: packs) {
            let url = URL(fileURLWithPath: packs + "/" + name)
            var data = try Data(contentsOf: url)
            guard let range = data.range(of: Data(block)) else { continue }
            let index = range.lowerBound + block.count / 2
            data[index] ^= 0xFF
            try data.write(to: url)
            return
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "setup: block to damage not found in any pack"])
    }
}
