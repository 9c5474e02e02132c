import ArgumentParser
import Engine
import Multiformats

/// `cairn get CID -o PATH`: a UnixFS file, directory (basic or HAMT) or symlink from the store
/// onto disk, all or nothing, through `Exporter.writeTree` (spec/engine.md).
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Write a UnixFS file, directory or symlink from the store to PATH.")

    @OptionGroup var store: StoreOptions

    @Option(name: [.customShort("o"), .long], help: "Where to write it (must not exist; default: the CID).")
    var output: String?

    @Argument(help: "The CID to get.")
    var cid: String

    func run() async throws {
        let cid = try parseSecureCID(cid)
        let path = output ?? cid.description
        guard !path.isEmpty else { throw CLIError("-o needs a path") }
        let exporter = Exporter(blocks: try store.open(create: false))
        try storeCall { try exporter.writeTree(cid, to: path) }
    }
}
