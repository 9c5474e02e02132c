import ArgumentParser
import BlockStore
import CairnSystem
import Engine
import Multiformats

/// `cairn pin add|rm|ls|update|verify`.
struct PinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pin",
        abstract: "Keep blocks and DAGs from garbage collection.",
        subcommands: [PinAddCommand.self, PinRmCommand.self, PinLsCommand.self, PinUpdateCommand.self, PinVerifyCommand.self, PinRemoteCommand.self]
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

/// `cairn pin verify`: Kubo's `ipfs pin verify` (spec/engine.md §5, cli.md): each recursive pin's
/// DAG walked, every block verified; broken pins (and with `--verbose` complete ones too)
/// printed as Kubo prints them, or as Kubo's JSON with `--json`. Unlike Kubo, a broken pin
/// makes the command fail (after the whole report), as `store verify` does.
struct PinVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify that recursive pins are complete: every block of their DAGs present and valid.")

    @OptionGroup var store: StoreOptions

    @Flag(name: .long, help: "Also print the pins that are complete.")
    var verbose = false

    @Flag(name: [.customShort("q"), .long], help: "Print only the CIDs of broken pins.")
    var quiet = false

    @Flag(name: .long, help: "One JSON object per pin, as Kubo's RPC: {\"Cid\",\"Ok\"} or {\"Cid\",\"BadNodes\":[{\"Cid\",\"Err\"}]}.")
    var json = false

    func validate() throws {
        if verbose && quiet { throw usageError("the --verbose and --quiet options can not be used at the same time") }
    }

    func run() async throws {
        let blockStore = try store.open(create: false)
        let roots = try storeCall { try blockStore.pins().filter(\.recursive).map(\.cid) }
        var checked = 0, broken = 0
        try storeCall {
            // A CID pinned under several names is one pin here, as in Kubo: counted once.
            try PinVerifier(blocks: blockStore).verify(roots) { result in
                checked += 1
                if !result.isComplete { broken += 1 }
                guard !result.isComplete || verbose else { return }
                writeStandardOutput(json ? Self.json(result, quiet: quiet) : Self.text(result, quiet: quiet))
            }
        }
        try StandardOutput.check()
        if broken > 0 { throw CLIError("\(broken) of \(checked) recursive pins are broken") }
    }

    /// Kubo's text encoder: `CID ok`, or `CID broken` and `  CID: error` per bad block; with
    /// `--quiet` the broken pin's CID alone.
    static func text(_ result: PinVerification, quiet: Bool) -> String {
        if quiet { return result.isComplete ? "" : "\(result.root)\n" }
        if result.isComplete { return "\(result.root) ok\n" }
        var text = "\(result.root) broken\n"
        for node in result.badNodes { text += "  \(node.cid): \(node.error)\n" }
        return text
    }

    /// Kubo's `PinVerifyRes` (`Ok` and `BadNodes` left out when false or empty; `--quiet` drops
    /// the bad blocks, as Kubo's `explain` does).
    static func json(_ result: PinVerification, quiet: Bool) -> String {
        var line = "{\"Cid\":\"\(result.root)\""
        if result.isComplete {
            line += ",\"Ok\":true"
        } else if !quiet {
            line += ",\"BadNodes\":["
            for (index, node) in result.badNodes.enumerated() {
                line += index == 0 ? "" : ","
                line += "{\"Cid\":\"\(node.cid)\",\"Err\":"
                JSONText.appendQuoted(node.error, to: &line)
                line += "}"
            }
            line += "]"
        }
        return line + "}\n"
    }
}
