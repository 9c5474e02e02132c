import ArgumentParser
import BlockStore
import CairnSystem
import Engine
import Foundation
import Multiformats
import OCI
import Remote
import UnixFS

extension OCICommand {
    /// `cairn oci push DIR|ARCHIVE --to ADDRESS --pin-name N` (spec/oci.md §7).
    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a layout, upload only the blocks the remote lacks, pin its IPFS-enabled copy under a name.",
            discussion: """
                The layout is verified and added as `oci add` does (a layout with any mismatch \
                stores and sends nothing), then an IPFS-enabled copy of it (every descriptor with \
                urls: ["ipfs://CID"], the original documents kept) is added as a directory, and \
                pushed as `cairn push` does. Prints the directory's CID.
                """
        )

        @OptionGroup var importFlags: ImportFlags
        @OptionGroup var store: StoreOptions
        @OptionGroup var remote: RemoteOptions

        @Option(name: .long, help: ArgumentHelp("The remote (http://HOST:PORT, /ip4/HOST/tcp/PORT, cluster+http://…).", valueName: "address"))
        var to: String?

        @Option(name: .long, help: "Pin the layout under this name, locally and on the remote.")
        var pinName: String

        @Flag(name: .long, help: "Then remove every other remote pin with exactly that name.")
        var replace = false

        @Flag(name: .long, help: "Add locally and check the remote; upload and pin nothing.")
        var dryRun = false

        @Flag(name: .long, help: "Print one JSON object: the digest → CID map and what was sent.")
        var json = false

        @Argument(parsing: .allUnrecognized, help: ArgumentHelp(
            "The layout (a directory, an oci-archive or a docker-archive holding one). Also accepts \(ImportFlags.booleanHelp).",
            valueName: "layout"))
        var arguments: [String] = []

        private func parameters() throws -> (String, ImportParameters) {
            try validating {
                guard !pinName.isEmpty else { throw CLIError("--pin-name must not be empty") }
                return try layoutArguments(arguments, importFlags)
            }
        }

        func validate() throws { _ = try parameters() }

        func run() async throws {
            let (path, parameters) = try parameters()
            let address = try RemoteOptions.address(to)
            if address.kind == .gateway { throw usageError("\(address) is a trustless gateway: it cannot take a push") }
            let blockStore = try store.open(create: true)
            let adder = OCIAdder(adder: Adder(parameters: parameters, threads: importFlags.threads))
            let published = try ociCall {
                try adder.publish(try OCILayout(path: path), to: blockStore, pinName: pinName)
            }
            var pusher = Pusher()
            pusher.pinName = pinName
            pusher.replace = replace
            pusher.dryRun = dryRun
            let progress = RemoteProgress()
            if progress.enabled { pusher.progress = { progress.show($0, $1, $2) } }
            let configured = pusher
            let summary = try await remote.withRemote(address) { holder in
                try await configured.push(published.root, from: blockStore, to: holder)
            }
            progress.clear()
            writeStandardOutput(json ? Self.json(published, summary, path: path, dryRun: dryRun) : "\(published.root)\n")
            try StandardOutput.check()
        }

        /// `cairn push --json`'s object with the layout's maps added.
        static func json(_ published: IPFSLayout, _ summary: PushSummary, path: String, dryRun: Bool) -> String {
            let blobs = published.blobs.map { "\"\($0.check.digest)\":\"\($0.cid)\"" }
            let rewritten = published.rewritten.map {
                "\"\($0.original)\":{\"Digest\":\"\($0.digest)\",\"Size\":\($0.size),\"Cid\":\"\($0.cid)\"}"
            }
            var text = PushCommand.json(summary, dryRun: dryRun)
            text.removeLast(2)  // "}\n"
            return text + ",\"Layout\":\"\(AddOutput.jsonEscape(path))\",\"OriginalIndex\":\"\(published.originalIndex)\","
                + "\"Blobs\":{\(blobs.joined(separator: ","))},\"Rewritten\":{\(rewritten.joined(separator: ","))}}\n"
        }
    }

    /// `cairn oci pull CID --from ADDRESS -o DIR [--archive]` (spec/oci.md §8).
    struct Pull: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch a layout `oci push` published and write the original layout (or an oci-archive).",
            discussion: """
                Every block is verified as `cairn fetch` does and every OCI digest as `oci verify` \
                does, in a temporary directory beside the output, which is renamed into place only \
                then: on any failure nothing is left at -o.
                """
        )

        @OptionGroup var store: StoreOptions
        @OptionGroup var remote: RemoteOptions

        @Option(name: .long, help: ArgumentHelp("The remote (http://HOST:PORT, /ip4/…, gateway+http://…).", valueName: "address"))
        var from: String?

        @Option(name: .shortAndLong, help: ArgumentHelp("Write the layout directory (or with --archive the oci-archive) here.", valueName: "path"))
        var output: String

        @Flag(name: .long, help: "Write an oci-archive (a tar of the layout) instead of a directory.")
        var archive = false

        @Argument(help: "The root CID `oci push` printed.")
        var cid: String

        func validate() throws {
            _ = try validating { try parseSecureCID(cid) }
        }

        func run() async throws {
            let root = try parseSecureCID(cid)
            let address = try RemoteOptions.address(from)
            var existing = stat()
            guard lstat(output, &existing) != 0 else { throw CLIError("\(output) already exists") }
            try requireWritableParent(of: output)
            let blockStore = try store.open(create: true)
            let sink = try await fetchIntoStore(root, from: address, remote: remote, store: blockStore, pinName: nil)
            let scratch = PathText.parent(of: output) + "/.\(PathText.lastComponent(of: output)).cairn-pull-\(getpid())"
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let layout = try ociCall { () throws -> OCILayout in
                guard mkdir(scratch, 0o700) == 0 else {
                    throw CLIError("cannot create \(scratch): \(String(cString: strerror(errno)))")
                }
                let layout = try storeCall { try IPFSLayout.export(root, from: blockStore, to: scratch + "/layout") }
                let verification = try OCIVerifier().verify(layout, stopAtFirst: true)
                if let issue = verification.issues.first { throw issue.error }
                if archive {
                    try LayoutArchiveWriter.write(layout: scratch + "/layout", to: scratch + "/archive")
                }
                let from = scratch + (archive ? "/archive" : "/layout")
                // Interrupted before the rename: nothing at -o. A signal noticed right after it
                // takes the output away again; one during the exit leaves it, complete and
                // verified (spec/oci.md §8).
                try CancellationToken.process.check()
                guard access(output, F_OK) != 0 else { throw CLIError("\(output) already exists") }
                guard rename(from, output) == 0 else {
                    throw CLIError("cannot rename \(from) to \(output): \(String(cString: strerror(errno)))")
                }
                if CancellationToken.process.isCancelled {
                    try? FileManager.default.removeItem(atPath: output)
                    try CancellationToken.process.check()
                }
                return layout
            }
            writeStandardOutput("pulled \(root): \(layout.blobs.count) blobs verified (\(sink.blocks) blocks, \(sink.bytes) bytes fetched) into \(output)\n")
            try StandardOutput.check()
        }
    }
}
