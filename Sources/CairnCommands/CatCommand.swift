import ArgumentParser
import Engine

/// `cairn cat CID`: a UnixFS file's bytes (or a byte range of them), streamed in order from the
/// store through the `Exporter`.
struct CatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat",
        abstract: "Write a UnixFS file from the store to standard output (every block verified).")

    @OptionGroup var store: StoreOptions

    @Option(name: [.customShort("o"), .long], help: "Byte offset to begin reading from (default 0).")
    var offset: Int64 = 0

    @Option(name: [.customShort("l"), .long], help: "Maximum number of bytes to read (default: to the end).")
    var length: Int64?

    @Argument(help: "The file's CID, or a path through UnixFS directories (CID/NAME/… or /ipfs/CID/NAME/…).")
    var cid: String

    func validate() throws {
        try validating {
            // Kubo's wording for the same checks.
            if offset < 0 { throw CLIError("cannot specify negative offset") }
            if let length, length < 0 { throw CLIError("cannot specify negative length") }
        }
    }

    func run() async throws {
        let (root, segments) = try parseSecureCIDPath(cid)
        let blocks = try store.open(create: false)
        let exporter = Exporter(blocks: blocks)
        try storeCall {
            let cid = try UnixFSReader(store: blocks).resolve(root, segments)
            try exporter.cat(cid, offset: UInt64(offset), length: length.map(UInt64.init)) { try StandardOutput.write($0) }
        }
    }
}
