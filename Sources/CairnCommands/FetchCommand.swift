import ArgumentParser
import Foundation
import BlockStore
import CairnSystem
import Blocks
import Engine
import Multiformats
import Remote

/// `cairn fetch CID --from ADDRESS [-o PATH | --car OUT.car]`: verified blocks from a remote
/// into the local store (all or nothing), then written out (spec/remote.md §6).
struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Fetch a DAG from a remote, every block verified, into the store (all or nothing).",
        discussion: """
            Every block is hashed against its CID; a block outside the DAG, a duplicate the \
            remote said it would not send, or a DAG incomplete at the end stops the fetch with \
            an error naming the block, and the store is left unchanged. The root is pinned \
            locally (--pin-name names the pin); -o writes the file or tree, --car a CAR.
            """
    )

    @OptionGroup var store: StoreOptions
    @OptionGroup var remote: RemoteOptions

    @Option(name: .long, help: ArgumentHelp("The remote (http://HOST:PORT, /ip4/…, gateway+http://…).", valueName: "address"))
    var from: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the file or tree here.", valueName: "path"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp("Write the DAG as a CARv1 here.", valueName: "out.car"))
    var car: String?

    @Option(name: .long, help: "Name of the local pin of the root.")
    var pinName: String?

    @Option(name: .long, help: ArgumentHelp(
        "From a trustless gateway: car (one CAR; block by block if the gateway refuses CARs) or raw (block by block).",
        valueName: "mode"))
    var fetchMode = "car"

    @Argument(help: "The root CID.")
    var cid: String

    func validate() throws {
        if output != nil && car != nil { throw usageError("give -o PATH or --car OUT.car, not both") }
        if FetchMode(rawValue: fetchMode) == nil { throw usageError("--fetch-mode takes car or raw, not '\(fetchMode)'") }
        _ = try validating { try parseSecureCID(cid) }
    }

    func run() async throws {
        let root = try parseSecureCID(cid)
        let address = try RemoteOptions.address(from)
        // The outputs are checked before anything is fetched or stored (all or nothing).
        var existing = stat()
        if let output, lstat(output, &existing) == 0 { throw CLIError("\(output) already exists") }
        for path in [output, car].compactMap({ $0 }) { try requireWritableParent(of: path) }
        let carFile = try car.map { path in try storeCall { try CAROutputFile(path: path) } }
        let blockStore = try store.open(create: true)
        let sink = try await fetchIntoStore(root, from: address, remote: remote, store: blockStore, pinName: pinName,
                                            mode: FetchMode(rawValue: fetchMode) ?? .car)
        let exporter = Exporter(blocks: blockStore)
        if let output {
            try storeCall { try exporter.writeTree(root, to: output) }
        } else if let car, let carFile {
            try carFile.write { out in
                try carCall(car) { try storeCall { try exporter.exportCAR(root, into: out) } }
            }
        }
        writeStandardOutput("fetched \(root): \(sink.blocks) blocks (\(sink.bytes) bytes) from \(address)\n")
    }
}

/// The folder `path` would be written in exists, is a directory and can be written: checked
/// before anything is fetched, so that a fetch whose output cannot be made changes nothing.
func requireWritableParent(of path: String) throws {
    let folder = PathText.parent(of: path)
    var info = stat()
    guard stat(folder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
        throw CLIError("cannot write \(path): \(folder) is not a directory")
    }
    guard access(folder, W_OK) == 0 else { throw CLIError("cannot write \(path): \(folder) is not writable") }
}

/// Fetches `root`'s DAG from `address`, every block verified, into `blockStore`, all or
/// nothing: one transaction stores the blocks and pins the root (under `pinName`).
func fetchIntoStore(_ root: CID, from address: RemoteAddress, remote: RemoteOptions, store blockStore: BlockStore,
                    pinName: String?, mode: FetchMode = .car) async throws -> FetchSink {
    let writer = try storeCall { try blockStore.writer() }
    writer.commitsOnlyWhenAsked = true
    let sink = FetchSink(writer: writer)
    do {
        try await remote.withRemote(address, configure: { $0.fetchMode = mode }) { holder in
            try await holder.fetch(root, scope: .all) { block in try sink.put(block) }
        }
        try storeCall {
            try writer.commit(pinning: root, recursive: true, name: pinName, checkDAG: false)
            try writer.close()
        }
    } catch {
        writer.abandon()
        throw error
    }
    return sink
}

/// Hands verified blocks to the store writer (one fetch task at a time).
final class FetchSink: @unchecked Sendable {
    let writer: BlockStoreWriter
    private(set) var blocks = 0
    private(set) var bytes = 0

    init(writer: BlockStoreWriter) { self.writer = writer }

    func put(_ block: Block) throws {
        _ = try writer.put(block, verify: false)  // DAGVerifier checked it
        blocks += 1
        bytes += block.bytes.count
    }
}
