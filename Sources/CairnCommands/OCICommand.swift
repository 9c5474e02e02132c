import ArgumentParser
import BlockStore
import Chunking
import Engine
import OCI
import UnixFS
import CairnSystem
import Foundation

/// `cairn oci verify|add|dedup|push|pull`: OCI image layouts and archives (spec/oci.md), flags and
/// printing only; the work is the `OCI` module's.
struct OCICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oci",
        abstract: "Verify, add, measure, push and pull OCI image layouts, oci-archives and docker-archives.",
        subcommands: [Verify.self, Add.self, Dedup.self, Push.self, Pull.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every blob's size and digest and every layer's diff_id, streaming.",
            discussion: "Exits 1 at the first mismatch, naming the blob, the expected and the actual value; --json reads every blob and lists every issue."
        )

        @Argument(help: "An OCI layout directory, an oci-archive or a docker-archive.")
        var layout: String

        @Flag(name: .long, help: "Print one JSON object: every blob checked and every issue.")
        var json = false

        func run() async throws {
            let result = try ociCall {
                try OCIVerifier().verify(try OCILayout(path: layout), stopAtFirst: !json)
            }
            if json {
                writeStandardOutput(OCIJSON.verification(result, path: layout) + "\n")
                try StandardOutput.check()
                if !result.passed { throw ExitCode.failure }
                return
            }
            if let issue = result.issues.first { throw CLIError(issue.message) }
            let layers = result.entries.filter { $0.check?.diffID != nil }.count
            writeStandardOutput("verified \(result.entries.count) blobs (\(layers) layers with their uncompressed digests) in \(layout)\n")
            try StandardOutput.check()
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add every blob of a layout to the store as a UnixFS file; print OCI digest → CID.",
            discussion: "Every blob is verified while it is read; a layout with any mismatch stores nothing. The import flags are those of `cairn add`. The roots are pinned (--pin=false to skip) under --pin-name."
        )

        @OptionGroup var importFlags: ImportFlags

        @Flag(name: .long, help: "Add each layer's decompressed tar instead of the compressed blob.")
        var uncompressed = false

        @Option(name: .customLong("verify-diff-ids"), help: "Decompress each layer and check its uncompressed digest (diff_id) and tar (true, default); false only sizes and digests it like any other blob (faster; --uncompressed always checks).")
        var verifyDiffIDs: Bool = true

        @Flag(name: .long, help: "Print one JSON object: the digest → CID map.")
        var json = false

        @OptionGroup var store: StoreOptions

        @OptionGroup var pins: PinOptions

        @Argument(parsing: .allUnrecognized, help: ArgumentHelp(
            "The layout (a directory, an oci-archive or a docker-archive). Also accepts, each as --NAME[=true|false]: \(ImportFlags.booleanHelp).",
            valueName: "layout"))
        var arguments: [String] = []

        private func parameters() throws -> (String, ImportParameters) {
            try validating { try layoutArguments(arguments, importFlags) }
        }

        func validate() throws { _ = try parameters() }

        func run() async throws {
            let (path, parameters) = try parameters()
            var adder = OCIAdder(adder: Adder(parameters: parameters, threads: importFlags.threads))
            adder.uncompressed = uncompressed
            adder.verifyDiffIDs = verifyDiffIDs
            let added = try ociCall {
                let layout = try OCILayout(path: path)
                if let issue = layout.issues.first { throw issue.error }
                return try adder.add(layout, to: try store.open(create: true), pin: pins.pin, pinName: pins.pinName)
            }
            if json {
                let items = added.map { item in
                    "{\"digest\":\"\(item.check.digest)\",\"cid\":\"\(item.cid)\",\"size\":\(item.check.size),\"mediaType\":\"\(AddOutput.jsonEscape(item.blob.mediaType))\",\"role\":\"\(item.blob.role.rawValue)\",\"uncompressed\":\(item.uncompressed)}"
                }
                writeStandardOutput("{\"layout\":\"\(AddOutput.jsonEscape(path))\",\"blobs\":[\(items.joined(separator: ","))]}\n")
            } else {
                writeStandardOutput(added.map { "\($0.check.digest) \($0.cid)\($0.uncompressed ? " (uncompressed)" : "")\n" }.joined())
            }
            try StandardOutput.check()
        }
    }

    struct Dedup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report, per image, layer and chunker, how many blocks are new and how many already present.",
            discussion: "Present means: in an earlier layer or argument, or in the store (--store, else $CAIRN_HOME, else ~/.cairn, when it exists). Nothing is written."
        )

        @Argument(help: "Layouts (directories, oci-archives, docker-archives), in order.")
        var layouts: [String]

        @Option(name: .long, help: "Comma-separated chunker specs (default: size-262144,fastcdc).")
        var chunkers: String = "size-262144,fastcdc"

        @Flag(name: .long, help: "Also measure each layer's decompressed tar.")
        var uncompressed = false

        @Flag(name: .long, help: "Print one JSON object per row.")
        var json = false

        @Option(name: .long, parsing: .unconditional, help: "Hashing threads (default: all cores).")
        var threads: Int?

        @OptionGroup var store: StoreOptions

        private func specs() throws -> [ChunkerSpec] {
            try validating {
                guard !layouts.isEmpty else { throw CLIError("expected at least one layout") }
                try checkThreads(threads)
                let specs = try chunkers.split(separator: ",").map { text in
                    do { return try ChunkerSpec(parsing: String(text)) } catch { throw CLIError("\(error)") }
                }
                guard !specs.isEmpty else { throw CLIError("--chunkers needs at least one chunker") }
                return specs
            }
        }

        func validate() throws { _ = try specs() }

        func run() async throws {
            var dedup = OCIDedup(chunkers: try specs())
            dedup.uncompressed = uncompressed
            dedup.threads = threads
            if access(store.layout.root, F_OK) == 0 { dedup.store = try store.open(create: false) }
            if !json { writeStandardOutput("argument\timage\tlayer\tchunker\tform\tbytes\tblocks\tnew-blocks\tnew-bytes\tshared\n") }
            try ociCall {
                let opened = try layouts.map { path throws(OCIError) in try OCILayout(path: path) }
                try dedup.run(opened) { row in
                    let form = row.uncompressed ? "uncompressed" : "compressed"
                    if json {
                        writeStandardOutput("{\"argument\":\(row.argument),\"layout\":\"\(AddOutput.jsonEscape(row.layout))\",\"image\":\"\(AddOutput.jsonEscape(row.image))\",\"layer\":\"\(AddOutput.jsonEscape(row.blob))\",\"chunker\":\"\(row.chunker)\",\"form\":\"\(form)\",\"contentBytes\":\(row.contentBytes),\"bytes\":\(row.bytes),\"blocks\":\(row.blocks),\"newBlocks\":\(row.newBlocks),\"newBytes\":\(row.newBytes),\"presentBlocks\":\(row.presentBlocks),\"presentBytes\":\(row.presentBytes)}\n")
                    } else {
                        let shared = String(format: "%.1f%%", row.sharedPercent)
                        writeStandardOutput("\(row.argument)\t\(row.image)\t\(row.blob)\t\(row.chunker)\t\(form)\t\(row.bytes)\t\(row.blocks)\t\(row.newBlocks)\t\(row.newBytes)\t\(shared)\n")
                    }
                    try StandardOutput.check()
                }
            }
        }
    }
}

/// The one layout path and the import parameters of `oci add` and `oci push`'s free arguments.
func layoutArguments(_ arguments: [String], _ importFlags: ImportFlags) throws -> (String, ImportParameters) {
    let split = try KuboArguments(arguments)
    guard split.paths.count == 1 else { throw CLIError("expected one layout (a directory or an archive)") }
    return (split.paths[0], try importFlags.parameters(booleans: split.importBooleans))
}

/// Runs `body`, turning library errors into one-line CLI errors.
@discardableResult
func ociCall<T>(_ body: () throws -> T) throws -> T {
    do {
        return try storeCall(body)
    } catch let error as OCIError {
        throw CLIError(error.message)
    } catch let error as ImportError {
        throw CLIError(error.description)
    } catch let error as ImportOptionsError {
        throw CLIError(error.description)
    }
}

/// The JSON of `oci verify --json`.
enum OCIJSON {
    static func verification(_ result: OCIVerification, path: String) -> String {
        func text(_ value: String?) -> String { value.map { "\"\(AddOutput.jsonEscape($0))\"" } ?? "null" }
        let blobs = result.entries.map { entry in
            var fields = "\"digest\":\(text(entry.check?.digest.description ?? entry.blob.digest?.description)),\"path\":\(text(entry.blob.path)),\"role\":\"\(entry.blob.role.rawValue)\",\"mediaType\":\(text(entry.blob.mediaType)),\"ok\":\(entry.check != nil)"
            if let check = entry.check { fields += ",\"size\":\(check.size)" }
            if let diffID = entry.check?.diffID { fields += ",\"diffID\":\"\(diffID)\"" }
            if let tar = entry.check?.tar { fields += ",\"entries\":\(tar.entries),\"files\":\(tar.files),\"fileBytes\":\(tar.fileBytes)" }
            return "{\(fields)}"
        }
        let issues = result.issues.map { issue in
            "{\"blob\":\(text(issue.blob)),\"kind\":\"\(issue.code)\",\"expected\":\(text(issue.expected)),\"actual\":\(text(issue.actual)),\"message\":\(text(issue.message))}"
        }
        return "{\"layout\":\(text(path)),\"ok\":\(result.passed),\"blobs\":[\(blobs.joined(separator: ","))],\"issues\":[\(issues.joined(separator: ","))]}"
    }
}
