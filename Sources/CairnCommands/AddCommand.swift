import ArgumentParser
import Chunking
import Multiformats
import UnixFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `cairn add`: the CIDs `ipfs add` would give a file, computed locally.
///
/// Structured for the directory work to come: `AddInputs` walks the arguments (today: files and
/// `-`; later `-r`, `-w`, `-H`), each file goes through `FileImporter`, and `AddOutput` prints
/// the `added <cid> <name>` events in Kubo's order.
struct AddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Import files as UnixFS DAGs and print their CIDs, exactly as `ipfs add` would.",
        discussion: """
            Blocks go into the block store (--store, else $CAIRN_HOME, else ~/.cairn) and each \
            root is pinned (--pin=false to skip, --pin-name to name the pin); -n/--only-hash \
            stores nothing. Import flags follow Kubo: explicit flags override the --profile \
            values, a hash other than sha2-256 implies CIDv1, and CIDv1 implies raw leaves \
            unless --raw-leaves=false is given.
            """
    )

    @Option(name: [.customShort("s"), .long], help: "Chunking algorithm: size-N, rabin[-MIN-AVG-MAX], buzhash, fastcdc[-…].")
    var chunker: String?

    @Flag(name: [.customShort("t"), .long], help: "Use the trickle DAG layout.")
    var trickle = false

    @Option(name: .long, help: "CID version: 0 or 1.")
    var cidVersion: Int?

    @Option(name: .long, help: "Hash function (multicodec name, e.g. sha2-256, blake3).")
    var hash: String?

    @Flag(name: .long, help: "Inline small blocks into identity CIDs.")
    var inline = false

    @Option(name: .long, help: "Largest block to inline, in bytes (at most 128).")
    var inlineLimit: Int = ImportParameters.defaultInlineLimit

    @Option(name: .long, help: "Most links per internal file node (default 174).")
    var maxFileLinks: Int?

    @Option(name: .long, help: "Import preset: unixfs-v0-2015 (= legacy-cid-v0, Kubo's default) or unixfs-v1-2025.")
    var profile: String?

    @Flag(name: [.customShort("n"), .long], help: "Only compute CIDs; store nothing.")
    var onlyHash = false

    @Flag(name: [.customShort("q"), .long], help: "Print only the CIDs.")
    var quiet = false

    @Flag(name: [.customShort("Q"), .long], help: "Print only the final root CID.")
    var quieter = false

    @Flag(name: .long, help: "Print one JSON object per added entry.")
    var json = false

    @Option(name: .long, help: "Hashing threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Name to print for standard input.")
    var stdinName: String?

    // MARK: Block store (see AddStoreSink.swift)
    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Pin each added root recursively (true, default) or not (false).")
    var pin: Bool = true

    @Option(name: .long, help: "Name for the pins of the added roots.")
    var pinName: String?

    /// Files, `-`, and `--raw-leaves[=true|false]`: Kubo's tri-state boolean takes an optional
    /// `=value`, which ArgumentParser options cannot express, so it is picked out here.
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp(
        "Files to add (- for standard input). Also accepts --raw-leaves[=true|false]: raw leaf blocks (default: on for CIDv1).",
        valueName: "file"))
    var arguments: [String] = []

    /// The file arguments.
    var paths: [String] { (try? splitArguments().paths) ?? [] }

    /// The `--raw-leaves` setting given, if any.
    var rawLeaves: Bool? { (try? splitArguments().rawLeaves) ?? nil }

    func splitArguments() throws -> (paths: [String], rawLeaves: Bool?) {
        var paths: [String] = []
        var rawLeaves: Bool? = nil
        var onlyPaths = false
        for argument in arguments {
            if onlyPaths || argument == "-" || !argument.hasPrefix("-") {
                paths.append(argument)
            } else if argument == "--" {
                onlyPaths = true
            } else if argument == "--raw-leaves" || argument == "--raw-leaves=true" {
                rawLeaves = true
            } else if argument == "--raw-leaves=false" {
                rawLeaves = false
            } else if argument.hasPrefix("--raw-leaves=") {
                throw ValidationError("--raw-leaves takes true or false, not '\(argument.dropFirst(13))'")
            } else {
                throw ValidationError("unknown option '\(argument)'")
            }
        }
        return (paths, rawLeaves)
    }

    /// The import options as Kubo would receive them from these flags.
    func importOptions() throws -> ImportOptions {
        var options = ImportOptions()
        if let profile {
            guard let known = ImportProfile(rawValue: profile) else {
                throw CLIError("unknown profile '\(profile)' (known: \(ImportProfile.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            options.profile = known
        }
        options.chunker = chunker
        options.trickle = trickle ? true : nil
        options.rawLeaves = try splitArguments().rawLeaves
        options.cidVersion = cidVersion
        options.hash = hash
        options.inline = inline
        options.inlineLimit = inlineLimit
        options.maxFileLinks = maxFileLinks
        return options
    }

    func run() async throws {
        // Our own checks run here, not in validate(), so each failure is one line on stderr.
        let parameters: ImportParameters
        do {
            let files = try splitArguments().paths
            guard !files.isEmpty else {
                throw CLIError("expected a file argument (or - for standard input)")
            }
            if let threads, threads < 1 { throw CLIError("--threads must be at least 1, got \(threads)") }
            parameters = try importOptions().resolve()
        } catch let error as ImportOptionsError {
            throw CLIError(error.description)
        } catch let error as ValidationError {
            throw CLIError(error.message)
        }
        var importer = try FileImporter(parameters: parameters, threads: threads)
        let output = AddOutput(mode: quieter ? .root : (quiet ? .cids : (json ? .json : .lines)))
        let showProgress = isatty(2) != 0 && !quieter && !quiet
        let session = onlyHash ? nil : try AddStoreSession(store: store, pin: pin, pinName: pinName)
        defer { session?.abandon() }
        for path in try splitArguments().paths {
            let name = path == "-" ? stdinName : AddInputs.displayName(of: path)
            if showProgress { importer.progress = AddProgress.reporter(name: name ?? "stdin") }
            var sink = DiscardingSink()
            let result: ImportResult
            do {
                if let session {
                    result = try session.importFile(importer, atPath: path)
                    try session.commit(root: result.root)
                } else {
                    result = try importer.importFile(atPath: path, into: &sink)
                }
            } catch let error as ImportError {
                if showProgress { AddProgress.clear() }
                throw CLIError(error.description)
            }
            if showProgress { AddProgress.clear() }
            output.added(result, name: name)
        }
        try session?.close()
        output.finish()
    }
}

/// Argument handling shared with the directory walker to come.
enum AddInputs {
    /// The name `ipfs add` prints for a file argument: its last path component.
    static func displayName(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        if let slash = trimmed.lastIndex(of: "/"), trimmed.count > 1 {
            return String(trimmed[trimmed.index(after: slash)...])
        }
        return String(trimmed)
    }
}
