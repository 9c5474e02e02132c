import ArgumentParser
import BlockStore
import CAR
import Chunking
import Multiformats
import UnixFS
import Blocks

import CairnSystem

/// `cairn add`: the CIDs `ipfs add` would give files and directory trees, computed locally.
///
/// Each argument goes through `TreeImporter` (files, symlinks, and with `-r` directories);
/// `-w` wraps all of them in one directory; `AddOutput` prints the `added <cid> <path>` events
/// in Kubo's order (files as added, then directories, children before parents).
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

    @Flag(name: [.customShort("r"), .long], help: "Add directories recursively.")
    var recursive = false

    @Flag(name: [.customShort("w"), .long], help: "Wrap the files in a directory (the root printed last).")
    var wrapWithDirectory = false

    @Flag(name: [.customShort("H"), .long], help: "Include files whose name starts with '.' inside directories.")
    var hidden = false

    @Option(name: .long, help: "Shard a directory into a HAMT above this many entries (0 = no limit).")
    var maxDirectoryLinks: Int?

    @Option(name: .long, help: "HAMT fanout: a power of two from 8 to 1024 (default 256).")
    var maxHAMTFanout: Int?

    @Flag(name: .long, help: "Store each entry's permission bits (UnixFS 1.5; turns raw leaves off).")
    var preserveMode = false

    @Flag(name: .long, help: "Store each entry's modification time (UnixFS 1.5; turns raw leaves off).")
    var preserveMtime = false

    @Option(name: .long, help: "Store this octal mode on every file and directory.")
    var mode: String?

    @Option(name: .long, help: "Store this modification time (Unix seconds) on every entry.")
    var mtime: Int64?

    @Option(name: .long, help: "Nanoseconds of --mtime.")
    var mtimeNsecs: UInt32?

    @Flag(name: [.customShort("n"), .long], help: "Only compute CIDs; store nothing.")
    var onlyHash = false

    @Flag(name: [.customShort("q"), .long], help: "Print only the CIDs.")
    var quiet = false

    @Flag(name: [.customShort("Q"), .long], help: "Print only the final root CID.")
    var quieter = false

    @Flag(name: .long, help: "Print one JSON object per added entry.")
    var json = false

    @Flag(name: .long, help: "Write no output at all (errors still go to stderr).")
    var silent = false

    @Flag(name: .customShort("p"), help: "Show the progress bar on stderr even when it is not a terminal (default: only on a terminal, without -q, -Q, --silent; long form --progress[=true|false]).")
    var progressShort = false

    @Option(name: .long, help: ArgumentHelp(
        "Multibase of the printed CIDs (base32, base36, base58btc, base64url, …); a CIDv0 is then printed as CIDv1.",
        valueName: "base"))
    var cidBase: String?

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp(
        "A gitignore-style rule for the names met while walking directories (repeatable).", valueName: "rule"))
    var ignore: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "A file of gitignore-style rules, one per line (applied before the --ignore rules).", valueName: "file"))
    var ignoreRulesPath: String?

    @Flag(name: .customShort("E"), help: "Add empty directories (the default; --empty-dirs=false leaves them out).")
    var emptyDirsShort = false

    @Flag(name: .long, help: "Follow symlinks given as arguments (Kubo deprecates it for --dereference-symlinks).")
    var dereferenceArgs = false

    @Flag(name: .long, help: "Follow every symlink: the arguments and the symlinks met while walking.")
    var dereferenceSymlinks = false

    @Option(name: .long, parsing: .unconditional, help: "Hashing threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Name to print for standard input.")
    var stdinName: String?

    @Option(name: .long, help: ArgumentHelp(
        "Write the blocks to this CAR file instead of the store (one root: one path, or -w).",
        valueName: "out.car"))
    var car: String?

    @Flag(name: .long, help: "With --car: write a CARv2 with a MultihashIndexSorted index.")
    var carV2 = false

    // MARK: Block store (see AddStoreSink.swift)
    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Pin each added root recursively (true, default) or not (false).")
    var pin: Bool = true

    @Option(name: .long, help: "Name for the pins of the added roots.")
    var pinName: String?

    /// Files, `-`, and Kubo's booleans that take an optional `=true|false` (which ArgumentParser
    /// options cannot express), picked out here: `--raw-leaves`, `--empty-dirs`, `--progress`,
    /// `--upgrade-cidv0-in-output`.
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp(
        "Files to add (- for standard input). Also accepts, each as --NAME[=true|false]: --raw-leaves (raw leaf blocks; default: on for CIDv1), --empty-dirs (add empty directories met while walking; default true), --progress (show the progress bar), --upgrade-cidv0-in-output (print a CIDv0 as CIDv1; default: true when --cid-base is given).",
        valueName: "file"))
    var arguments: [String] = []

    /// What `arguments` holds: the paths and the optional-value booleans given.
    struct SplitArguments {
        var paths: [String] = []
        var rawLeaves: Bool?
        var emptyDirs: Bool?
        var progress: Bool?
        var upgradeCIDv0: Bool?
    }

    /// The file arguments.
    var paths: [String] { (try? splitArguments().paths) ?? [] }

    /// The `--raw-leaves` setting given, if any.
    var rawLeaves: Bool? { (try? splitArguments().rawLeaves) ?? nil }

    func splitArguments() throws -> SplitArguments {
        var split = SplitArguments()
        var onlyPaths = false
        for argument in arguments {
            if onlyPaths || argument == "-" || !argument.hasPrefix("-") {
                split.paths.append(argument)
                continue
            }
            if argument == "--" {
                onlyPaths = true
                continue
            }
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            let keyPath: WritableKeyPath<SplitArguments, Bool?>
            switch name {
            case "--raw-leaves": keyPath = \.rawLeaves
            case "--empty-dirs", "-E": keyPath = \.emptyDirs
            case "--progress", "-p": keyPath = \.progress
            case "--upgrade-cidv0-in-output": keyPath = \.upgradeCIDv0
            default: throw ValidationError("unknown option '\(argument)'")
            }
            switch argument.dropFirst(name.count) {
            case "", "=true": split[keyPath: keyPath] = true
            case "=false": split[keyPath: keyPath] = false
            case let value: throw ValidationError("\(name) takes true or false, not '\(value.dropFirst())'")
            }
        }
        return split
    }

    /// The import options as Kubo would receive them from these flags.
    func importOptions() throws -> ImportOptions {
        var options = ImportOptions()
        if let profile { options.profile = try ImportProfile.named(profile) }
        options.chunker = chunker
        options.trickle = trickle ? true : nil
        options.rawLeaves = try splitArguments().rawLeaves
        options.cidVersion = cidVersion
        options.hash = hash
        options.inline = inline
        options.inlineLimit = inlineLimit
        options.maxFileLinks = maxFileLinks
        options.maxDirectoryLinks = maxDirectoryLinks
        options.maxHAMTFanout = maxHAMTFanout
        options.preserveMode = preserveMode
        options.preserveMtime = preserveMtime
        if let mode { options.mode = try ImportOptions.parseMode(mode) }
        options.mtime = mtime
        options.mtimeNanoseconds = mtimeNsecs
        return options
    }

    /// What the flags resolve to, once checked.
    private struct Settings {
        var split: SplitArguments
        var encoder: CIDTextEncoder
        var parameters: ImportParameters
    }

    /// Checks every option value; a bad one is a usage error (exit 64, one line on stderr).
    private func settings() throws -> Settings {
        try validating {
            let split = try splitArguments()
            guard !split.paths.isEmpty else {
                throw CLIError("expected a file argument (or - for standard input)")
            }
            try checkThreads(threads)
            return Settings(split: split, encoder: try CIDTextEncoder(cidBase: cidBase, upgradeV0: split.upgradeCIDv0),
                            parameters: try importOptions().resolve())
        }
    }

    func validate() throws {
        _ = try settings()
    }

    func run() async throws {
        let settings = try settings()
        let (split, encoder, parameters) = (settings.split, settings.encoder, settings.parameters)
        var walk = WalkSettings(hidden: hidden, emptyDirectories: split.emptyDirs ?? true)
        walk.symlinks = dereferenceSymlinks ? .followAll : (dereferenceArgs ? .followArguments : .store)
        do {
            // Kubo (go-ipfs-files NewFilter): the file's rules first, then each --ignore.
            var lines: [[UInt8]] = []
            if let ignoreRulesPath { lines = try IgnoreRules.lines(ofFile: ignoreRulesPath) }
            walk.ignore = IgnoreRules(byteLines: lines + ignore.map { Array($0.utf8) })
        } catch {
            throw CLIError(error.description)
        }
        let base = try FileImporter(parameters: parameters, threads: threads)
        let mode: AddOutput.Mode = silent ? .silent : (quieter ? .root : (quiet ? .cids : (json ? .json : .lines)))
        let output = AddOutput(mode: mode, encoder: encoder)
        // Kubo turns the bar on unless -q, -Q or --silent; here only on a terminal. -p/--progress
        // forces it either way.
        let showProgress = progressShort || (split.progress ?? (isatty(2) != 0 && !quieter && !quiet && !silent))
        let paths = split.paths
        if wrapWithDirectory && paths.contains("-") && stdinName == nil {
            throw CLIError("-w with standard input needs --stdin-name (the name of its link)")
        }
        if let car {
            guard paths.count == 1 || wrapWithDirectory else {
                throw CLIError("--car writes one DAG: give one path, or wrap several with -w")
            }
            try addToCAR(car, paths: paths, base: base, parameters: parameters, walk: walk, output: output, showProgress: showProgress)
            output.finish()
            return
        }
        let session = onlyHash ? nil : try AddStoreSession(store: store, pin: pin, pinName: pinName)
        defer { session?.abandon() }
        do {
            if let session {
                var sink = AddStoreSink(writer: session.writer)
                try addAll(paths, base: base, parameters: parameters, walk: walk, output: output, showProgress: showProgress,
                           into: &sink, session: session)
            } else {
                var sink = DiscardingSink()
                try addAll(paths, base: base, parameters: parameters, walk: walk, output: output, showProgress: showProgress,
                           into: &sink, session: nil)
            }
        } catch let error as ImportError {
            throw CLIError(error.description)
        } catch let error as ImportOptionsError {
            throw CLIError(error.description)
        } catch let error as BlockStoreError {
            throw CLIError(error.message)
        }
        try session?.close()
        output.finish()
    }

    /// `--car OUT`: the blocks go to a CAR written beside OUT and renamed into place when the
    /// import is complete (nothing is left behind on failure); no store is used.
    private func addToCAR(
        _ car: String, paths: [String], base: FileImporter, parameters: ImportParameters, walk: WalkSettings,
        output: AddOutput, showProgress: Bool
    ) throws {
        let destination = try CAROutputFile(path: car)
        // The lines wait until the CAR is in place: a printed line promises that it holds the entry.
        output.hold()
        do {
            try destination.write { out in
                var sink = try CARBlockSink(
                    output: out, format: carV2 ? .v2(index: .multihashSorted) : .v1,
                    placeholderRoot: parameters.placeholderRoot)
                let root = try addAll(paths, base: base, parameters: parameters, walk: walk, output: output,
                                      showProgress: showProgress, into: &sink, session: nil)
                _ = try sink.finish(root: root)
            }
        } catch let error as ImportError {
            throw CLIError(error.description)
        } catch let error as ImportOptionsError {
            throw CLIError(error.description)
        } catch let error as CLIError {
            throw error
        } catch {
            throw carFailure(car, error)
        }
        output.release()
    }

    /// Adds every path into `sink`. With a store session, each argument's blocks are committed
    /// (and its root pinned, unless wrapped) before any of its lines is printed: a printed line
    /// is a promise that the entry is durably stored.
    /// Returns the last root: the wrapper's with -w, else the last argument's.
    @discardableResult
    private func addAll<Sink: BlockSink>(
        _ paths: [String], base: FileImporter, parameters: ImportParameters, walk: WalkSettings, output: AddOutput,
        showProgress: Bool, into sink: inout Sink, session: AddStoreSession?
    ) throws -> CID {
        // Standard input has no stat: only custom --mode/--mtime apply to it.
        let stdinMetadata = parameters.metadata.metadata(isSymlink: false, permissions: nil, mtime: nil)
        var wrapped: [DirectoryEntry] = []
        var names = Set<[UInt8]>()
        var last: CID?
        for path in paths {
            var importer = base
            let label = path == "-" ? (stdinName ?? "stdin") : String(decoding: TreeImporter.lastComponent(of: path), as: UTF8.self)
            if showProgress { importer.progress = AddProgress.reporter(name: label) }
            defer { if showProgress { AddProgress.clear() } }
            var held: [() -> Void] = []
            let report: (@escaping () -> Void) -> Void = { line in
                if session == nil { line() } else { held.append(line) }
            }
            let top: AddedEntry
            if path == "-" {
                let result = try importer.importFile(atPath: "-", into: &sink, metadata: stdinMetadata)
                let name = stdinName.map { Array($0.utf8) }
                report { output.added(result, name: name) }
                top = AddedEntry(path: name ?? [], kind: .file, result: result)
            } else {
                var tree = try TreeImporter(files: importer, includeHidden: walk.hidden)
                tree.ignoreRules = walk.ignore
                tree.includeEmptyDirectories = walk.emptyDirectories
                tree.symlinks = walk.symlinks
                top = try tree.importPath(path, recursive: recursive, into: &sink) { entry in
                    if showProgress { AddProgress.clear() }
                    report { output.added(entry) }
                }
            }
            last = top.result.root
            if let session {
                try session.commit(root: top.result.root, pinning: !wrapWithDirectory)
                held.forEach { $0() }
            }
            if wrapWithDirectory {
                guard names.insert(top.name).inserted else {
                    throw CLIError("cannot wrap two entries named '\(AddOutput.escape(top.name))'")
                }
                wrapped.append(DirectoryEntry(name: top.name, cid: top.result.root, tsize: top.result.size))
            } else {
                output.flushDirectories()
            }
            try StandardOutput.check()  // standard output failed: stop before the next argument
        }
        if wrapWithDirectory {
            let builder = try DirectoryBuilder(parameters: parameters)
            let wrapper = try builder.build(wrapped, metadata: stdinMetadata, into: &sink)
            try session?.commit(root: wrapper.root, pinning: true)
            output.added(AddedEntry(path: [], kind: .directory, result: wrapper))
            last = wrapper.root
        }
        guard let last else { throw CLIError("nothing was added") }
        return last
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


/// The walk flags of `cairn add`: `-H`, `--ignore`/`--ignore-rules-path`, `--empty-dirs`,
/// `--dereference-args`/`--dereference-symlinks`.
struct WalkSettings {
    var hidden: Bool
    var emptyDirectories: Bool
    var ignore = IgnoreRules()
    var symlinks = SymlinkPolicy.store
}
