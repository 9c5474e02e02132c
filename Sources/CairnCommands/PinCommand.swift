import ArgumentParser
import BlockStore
import Multiformats

/// `cairn pin add|rm|ls|update`.
struct PinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pin",
        abstract: "Keep blocks and DAGs from garbage collection.",
        subcommands: [PinAddCommand.self, PinRmCommand.self, PinLsCommand.self, PinUpdateCommand.self, PinRemoteCommand.self]
    )
}

struct PinAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Pin CIDs: recursively (the whole DAG, which must be in the store) or directly (one block).")

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Pin the whole DAG (true, default) or only the block (false).")
    var recursive: Bool = true

    @Option(name: .long, help: "A name for the pins.")
    var name: String?

    @Argument(help: "CIDs to pin.")
    var cids: [String]

    func run() async throws {
        let cids = try cids.map(parseSecureCID)
        guard !cids.isEmpty else { throw CLIError("expected at least one CID") }
        let blockStore = try store.open(create: false)
        try storeCall {
            try blockStore.write { writer in
                for cid in cids {
                    try writer.pin(cid, recursive: recursive, name: name)
                    writeStandardOutput("pinned \(cid) \(recursive ? "recursively" : "directly")\n")
                }
            }
        }
    }
}

struct PinRmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove every pin of the given CIDs, or every pin named exactly --name.")

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Remove the pins with exactly this name (whatever their CIDs).")
    var name: String?

    @Argument(help: "CIDs to unpin.")
    var cids: [String] = []

    func run() async throws {
        let cids = try cids.map(parseCID)
        guard !cids.isEmpty || name != nil else { throw CLIError("expected CIDs or --name") }
        let blockStore = try store.open(create: false)
        try storeCall {
            try blockStore.write { writer in
                for cid in cids {
                    try writer.unpin(cid)
                    writeStandardOutput("unpinned \(cid)\n")
                }
                if let name {
                    let count = try writer.unpin(name: name)
                    writeStandardOutput("unpinned \(count) pin\(count == 1 ? "" : "s") named \(name)\n")
                }
            }
        }
    }
}

struct PinLsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List pins: CID, kind, name.")

    @OptionGroup var store: StoreOptions

    @Option(name: [.customShort("t"), .long], help: "all (default), direct or recursive.")
    var type: String = "all"

    @Option(name: .long, help: "Only pins with exactly this name.")
    var name: String?

    @Flag(name: [.customShort("q"), .long], help: "Print only the CIDs.")
    var quiet = false

    func validate() throws {
        guard ["all", "direct", "recursive"].contains(type) else {
            throw usageError("--type must be all, direct or recursive, not '\(type)'")
        }
    }

    func run() async throws {
        let blockStore = try store.open(create: false)
        var text = ""
        for pin in try storeCall({ try blockStore.pins() }) {
            if type == "direct" && pin.recursive || type == "recursive" && !pin.recursive { continue }
            if let name, pin.name != name { continue }
            if quiet {
                text += "\(pin.cid)\n"
            } else {
                text += "\(pin.cid) \(pin.recursive ? "recursive" : "direct")\(pin.name.map { " " + $0 } ?? "")\n"
            }
        }
        writeStandardOutput(text)
    }
}

struct PinUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Move the pins of OLD to NEW (same names and kinds); NEW's DAG must be in the store.")

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Remove OLD's pins (true, default).")
    var unpin: Bool = true

    @Argument var old: String
    @Argument var new: String

    func run() async throws {
        let old = try parseCID(old), new = try parseSecureCID(new)
        let blockStore = try store.open(create: false)
        try storeCall { try blockStore.write { try $0.updatePin(from: old, to: new, unpinOld: unpin) } }
        writeStandardOutput("updated \(old) to \(new)\n")
    }
}
