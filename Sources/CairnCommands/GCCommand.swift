import ArgumentParser
import BlockStore

/// `cairn gc`: remove unpinned blocks and compact sparse packs.
struct GCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove blocks no pin reaches, then rewrite packs that are mostly garbage.")

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Compact packs whose live ratio is below this (0...1, default 0.5).")
    var compactThreshold: Double = 0.5

    func run() async throws {
        guard compactThreshold >= 0 && compactThreshold <= 1 else {
            throw CLIError("--compact-threshold must be between 0 and 1, got \(compactThreshold)")
        }
        let blockStore = try store.open(create: false)
        let report = try storeCall { try blockStore.write { try $0.collectGarbage(compactBelow: compactThreshold) } }
        var text = """
            live blocks: \(report.liveBlocks)
            removed blocks: \(report.removedBlocks) (\(report.removedBytes) bytes)
            compacted packs: \(report.compactedPacks) (\(report.movedBlocks) blocks moved)
            deleted packs: \(report.deletedPacks) (\(report.reclaimedBytes) bytes reclaimed)

            """
        if report.packsNotCompacted > 0 {
            text += "not reclaimed: \(report.unreclaimedBytes) bytes in \(report.packsNotCompacted) packs (not enough free space to compact them)\n"
        }
        writeStandardOutput(text)
    }
}
