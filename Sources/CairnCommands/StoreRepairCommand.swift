import ArgumentParser
import BlockStore
import CairnSystem

/// `cairn store repair [--pin-roots]`: rebuild the index from the packs alone.
struct StoreRepairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Rebuild the store's index from its packs (every block re-hashed).",
        discussion: """
            The previous index is kept beside the new one as index.sqlite.replaced-TIME. Pins \
            are carried over when the previous index can still be read; otherwise they are \
            lost, and --pin-roots pins every root found in the packs (a dag-pb or dag-cbor \
            block no other stored block links to) under the name 'repair'.
            """)

    @OptionGroup var store: StoreOptions

    @Flag(name: .long, help: "Pin every root found (recursively if its DAG is complete, else directly).")
    var pinRoots = false

    func run() async throws {
        let report = try storeCall { try BlockStore.repair(layout: store.layout, pinRoots: pinRoots, lockWait: store.lockWait) }
        var text = ""
        for line in report.skipped { text += "skipped: \(line)\n" }
        for name in report.headersRestored {
            text += "pack header restored: \(name) (the damaged header is kept as \(name).header-damaged)\n"
        }
        for name in report.notPacks { text += "not a pack: \(name) (renamed to \(name).damaged)\n" }
        text += "indexed \(report.blocks) blocks (\(report.blockBytes) bytes) from \(report.packs) packs"
        text += report.duplicateRecords > 0 ? " (\(report.duplicateRecords) duplicate records)\n" : "\n"
        if let aside = report.formatRestored { text += "FORMAT restored (the damaged one kept as \(aside))\n" }
        if let previous = report.previousIndex { text += "previous index kept as \(previous)\n" }
        if let kept = report.pinsKept {
            text += "pins kept from the previous index: \(kept)\n"
        } else {
            text += "pins: lost with the index" + (pinRoots ? "\n" : " (--pin-roots pins every root found)\n")
        }
        for root in report.rootsPinned { text += "pinned \(root)\n" }
        for root in report.rootsPinnedDirectly { text += "pinned \(root) directly (its DAG is incomplete)\n" }
        let pinned = report.rootsPinned.count + report.rootsPinnedDirectly.count
        let stoppedAfter = "pinning the roots stopped after \(pinned) of \(report.rootsFound)"
        if let stopped = report.pinningStopped { text += "\(stoppedAfter): \(stopped)\n" }
        writeStandardOutput(text)
        // The new index is in place: an interruption or a failure from here on says so.
        if let stopped = report.pinningStopped, CancellationToken.process.signal == nil {
            throw CLIError("the index was rebuilt and is in place, but \(stoppedAfter): \(stopped)")
        }
        Cairn.noteForInterrupt(report.pinningStopped == nil
            ? "after the repair was done: the index was rebuilt and is in place (see the report above)"
            : "after the repair was done: the index was rebuilt and is in place, but \(stoppedAfter)")
    }
}
