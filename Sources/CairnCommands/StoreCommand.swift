import ArgumentParser
import BlockStore
import Foundation

/// `cairn store stat|verify`.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Inspect and check the block store.",
        subcommands: [StoreStatCommand.self, StoreVerifyCommand.self]
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
        text += "verified \(report.checkedBlocks) blocks (\(report.checkedBytes) bytes) in \(report.checkedPacks) packs: "
        text += report.isClean ? "ok\n" : "\(report.problems.count + report.packProblems.count) problems\n"
        if dropCorrupt && !report.problems.isEmpty {
            let dropped = try storeCall { try blockStore.write { try $0.dropCorrupt(report.problems) } }
            text += "dropped \(dropped) corrupt entries\n"
        }
        writeStandardOutput(text)
        if !report.isClean {
            throw CLIError("the store has \(report.problems.count + report.packProblems.count) problems (see above)")
        }
    }
}
