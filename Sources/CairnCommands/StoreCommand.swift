import ArgumentParser
import BlockStore
import Blocks
import Foundation
import Hashing
import Multiformats

/// `cairn store stat|verify|repair`.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Inspect and check the block store.",
        subcommands: [StoreStatCommand.self, StoreVerifyCommand.self, StoreRepairCommand.self, StoreBenchHasCommand.self]
    )
}

struct StoreStatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stat", abstract: "Print block, byte, pack and pin counts.")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let blockStore = try store.open(create: false)
        let stat = try storeCall { try blockStore.stat() }
        writeStandardOutput("""
            path: \(blockStore.layout.root)
            blocks: \(stat.blocks)
            block bytes: \(stat.blockBytes)
            packs: \(stat.packs)
            pack bytes: \(stat.packBytes)
            live ratio: \(String(format: "%.3f", stat.liveRatio))
            pins: \(stat.pins)

            """)
    }
}

struct StoreVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash every stored block and check every pack; exits non-zero if anything is wrong.")

    @OptionGroup var store: StoreOptions

    @Flag(name: .long, help: "Remove the index entries of corrupt or missing blocks.")
    var dropCorrupt = false

    func run() async throws {
        let blockStore = try store.open(create: false)
        let report = try storeCall { try blockStore.verify() }
        var text = ""
        for problem in report.packProblems { text += "problem: \(problem)\n" }
        for problem in report.problems { text += "corrupt: \(problem)\n" }
        for problem in report.pinProblems { text += "pin problem: \(problem)\n" }
        text += "verified \(report.checkedBlocks) blocks (\(report.checkedBytes) bytes) in \(report.checkedPacks) packs"
        text += " and \(report.checkedPins) pins: "
        text += report.isClean ? "ok\n" : "\(report.problemCount) problems\n"
        if dropCorrupt && !report.problems.isEmpty {
            let dropped = try storeCall { try blockStore.write { try $0.dropCorrupt(report.problems) } }
            text += "dropped \(dropped) corrupt entries\n"
        }
        writeStandardOutput(text)
        try StandardOutput.check()  // a report that could not be written is the failure to name
        if !report.isClean {
            throw CLIError("the store has \(report.problemCount) problems (see above)")
        }
    }
}

/// Hidden: `hasMany` throughput on a store of `--blocks` blocks (Benchmarks/store/compare.sh).
struct StoreBenchHasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-has", abstract: "Measure hasMany lookups per second.", shouldDisplay: false)

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Blocks the store should hold (filled with 64-byte raw blocks if fewer).")
    var blocks: Int = 1_000_000

    @Option(name: .long, help: "Lookups per round (half present, half absent).")
    var lookups: Int = 1_000_000

    static func block(_ i: Int) -> Block {
        var bytes = [UInt8](repeating: 0, count: 64)
        withUnsafeBytes(of: UInt64(i).littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
        let digest = HashAlgorithm.sha2_256.hash(bytes)
        return Block(cid: CID.v1(codec: .raw, multihash: try! Multihash(code: .sha2_256, digest: digest.bytes)), bytes: bytes)
    }

    func run() async throws {
        let blockStore = try store.open(create: true)
        let have = try storeCall { try blockStore.stat().blocks }
        if have < blocks {
            let start = ContinuousClock.now
            try storeCall {
                try blockStore.write { writer in
                    writer.batchBlocks = 200_000
                    for i in have..<blocks {
                        try writer.put(Self.block(i), verify: false)
                    }
                }
            }
            writeStandardOutput("filled \(blocks - have) blocks in \(ContinuousClock.now - start)\n")
        }
        var rng = SystemRandomNumberGenerator()
        let cids = (0..<lookups).map { i in Self.block(i % 2 == 0 ? Int.random(in: 0..<blocks, using: &rng) : blocks + i).cid }
        var best = Duration.seconds(1_000)
        var found = 0
        for _ in 0..<3 {
            let start = ContinuousClock.now
            let answers = try storeCall { try blockStore.hasMany(cids) }
            best = min(best, ContinuousClock.now - start)
            found = answers.filter { $0 }.count
        }
        let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
        writeStandardOutput("hasMany: \(lookups) lookups (\(found) present) in \(String(format: "%.3f", seconds)) s = \(Int(Double(lookups) / seconds)) lookups/s\n")
    }
}
