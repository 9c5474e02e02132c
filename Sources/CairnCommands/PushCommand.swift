import ArgumentParser
import BlockStore
import CAR
import Engine
import Foundation
import Multiformats
import Remote
import UnixFS

/// `cairn push PATH|CID|FILE.car --to ADDRESS`: send a remote node only the blocks it lacks,
/// then pin the root (spec/remote.md §5).
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Upload to a remote node only the blocks it lacks, then pin the root.",
        discussion: """
            A path is first added to the local store (the same import flags as `add`), a \
            FILE.car imported, a CID taken from the store. The remote is asked which blocks it \
            holds (a recursive pin of the root answers for the whole DAG); only the others are \
            sent, in one CAR streamed as it is produced. Interrupted, a rerun sends only what \
            is still missing. A cluster+http:// address is an IPFS Cluster: existence through \
            its IPFS proxy, upload through POST /add?format=car, pins with replication factors.
            """
    )

    @OptionGroup var importFlags: ImportFlags
    @OptionGroup var store: StoreOptions
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var cluster: ClusterFlags

    @Option(name: .long, help: ArgumentHelp("The remote (http://HOST:PORT, /ip4/HOST/tcp/PORT, cluster+http://…).", valueName: "address"))
    var to: String?

    @Option(name: .long, help: "Pin the root under this name on the remote.")
    var pinName: String?

    @Flag(name: .long, help: "Then remove every other remote pin with exactly that name.")
    var replace = false

    @Flag(name: .long, help: "Only check: print what would be sent.")
    var dryRun = false

    @Option(name: .long, help: ArgumentHelp(
        "Check existence through the remote's list of its blocks (refs/local) when it holds at most N (default 4 × the DAG's blocks, at least 65536; 0: block/stat for each).",
        valueName: "N"))
    var listLimit: Int?

    @Flag(name: .long, help: "Print the summary as one JSON object.")
    var json = false

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp(
        "A path, a CID in the store, or a .car file. Also accepts \(ImportFlags.booleanHelp).", valueName: "source"))
    var arguments: [String] = []

    func validate() throws {
        _ = try source()
        if replace && pinName == nil { throw usageError("--replace needs --pin-name") }
        if let listLimit, listLimit < 0 { throw usageError("--list-limit must be 0 or more, got \(listLimit)") }
    }

    private func source() throws -> (String, KuboArguments, ImportParameters) {
        try validating {
            let split = try KuboArguments(arguments)
            guard split.paths.count == 1 else { throw CLIError("expected one PATH, CID or FILE.car") }
            return (split.paths[0], split, try importFlags.parameters(booleans: split.importBooleans))
        }
    }

    func run() async throws {
        let (input, _, parameters) = try source()
        let address = try RemoteOptions.address(to)
        if address.kind == .gateway { throw usageError("\(address) is a trustless gateway: it cannot take a push") }
        // A CID already in the store needs no writer: open read-only (readers never write).
        let pushesStoredCID = !FileManager.default.fileExists(atPath: input) && (try? CID(input)) != nil
        let blockStore = try store.open(create: !pushesStoredCID)
        let root = try localRoot(input, parameters: parameters, store: blockStore)
        let progress = RemoteProgress()
        var pusher = Pusher()
        pusher.pinName = pinName
        pusher.replace = replace
        pusher.dryRun = dryRun
        pusher.listingLimit = listLimit
        if progress.enabled { pusher.progress = { progress.show($0, $1, $2) } }
        let configured = pusher
        let summary = try await remote.withRemote(address, configure: cluster.apply) { holder in
            try await configured.push(root, from: blockStore, to: holder)
        }
        progress.clear()
        writeStandardOutput(json ? Self.json(summary, dryRun: dryRun) : Self.text(summary, to: address, dryRun: dryRun))
    }

    /// The root of `source` in the local store: a CID already there, a CAR imported, or a path added.
    private func localRoot(_ source: String, parameters: ImportParameters, store blockStore: BlockStore) throws -> CID {
        if !FileManager.default.fileExists(atPath: source), let cid = try? CID(source) {
            guard try storeCall({ try blockStore.has(cid) }) else {
                throw CLIError("\(cid) is not in the local store")
            }
            return cid
        }
        if source.hasSuffix(".car") {
            let roots = try importCARIntoStore(source, store: blockStore, pin: true, pinName: nil).header.roots
            guard roots.count == 1 else { throw CLIError("\(source) has \(roots.count) roots; push takes a CAR with one") }
            return roots[0]
        }
        let adder = Adder(parameters: parameters, threads: importFlags.threads, walk: WalkSettings(recursive: true))
        do {
            return try adder.add([.path(source)], to: .store(blockStore, pin: true)) { _ in }
        } catch let error as ImportError {
            throw CLIError(error.description)
        } catch {
            throw remoteFailure(error)
        }
    }

    static func text(_ s: PushSummary, to address: RemoteAddress, dryRun: Bool) -> String {
        let verb = dryRun ? "would upload" : "uploaded"
        let present = s.rootPinned ? "already pinned on the remote" : "\(s.presentBlocks) blocks (\(s.presentBytes) bytes) already present"
        return "\(s.root) → \(address): \(s.dagBlocks) blocks (\(s.dagBytes) bytes) in the DAG, \(present), "
            + "\(verb) \(s.uploadedBlocks) blocks (\(s.uploadedBytes) bytes) in \(String(format: "%.3f", s.seconds)) s\n"
    }

    static func json(_ s: PushSummary, dryRun: Bool) -> String {
        "{\"Root\":\"\(s.root)\",\"DagBlocks\":\(s.dagBlocks),\"DagBytes\":\(s.dagBytes),\"PresentBlocks\":\(s.presentBlocks),"
            + "\"PresentBytes\":\(s.presentBytes),\"UploadedBlocks\":\(s.uploadedBlocks),\"UploadedBytes\":\(s.uploadedBytes),"
            + "\"RootPinned\":\(s.rootPinned),\"DryRun\":\(dryRun),\"Seconds\":\(String(format: "%.6f", s.seconds))}\n"
    }
}
