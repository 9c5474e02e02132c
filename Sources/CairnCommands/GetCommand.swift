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

    @Option(name: [.customShort("o"), .long], help: "Where to write it (must not exist; default: the path's last name, else the CID).")
    var output: String?

    @Argument(help: "The CID to get, or a path through UnixFS directories (CID/NAME/… or /ipfs/CID/NAME/…).")
    var cid: String

    func run() async throws {
        let (root, segments) = try parseSecureCIDPath(cid)
        let path = output ?? segments.last ?? root.description
        guard !path.isEmpty else { throw CLIError("-o needs a path") }
        let blocks = try store.open(create: false)
        let exporter = Exporter(blocks: blocks)
        try storeCall {
            let cid = try UnixFSReader(store: blocks).resolve(root, segments)
            try exporter.writeTree(cid, to: path)
        }
    }
}
