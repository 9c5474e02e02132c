import ArgumentParser
import BlockStore

/// `cairn cat CID`: a UnixFS file's bytes, streamed in order from the store.
struct CatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat",
        abstract: "Write a UnixFS file from the store to standard output (every block verified).")

    @OptionGroup var store: StoreOptions

    @Argument(help: "The file's CID.")
    var cid: String

    func run() async throws {
        let cid = try parseSecureCID(cid)
        let reader = UnixFSReader(store: try store.open(create: false))
        try storeCall { try reader.readFile(cid) { try StandardOutput.write($0) } }
    }
}
