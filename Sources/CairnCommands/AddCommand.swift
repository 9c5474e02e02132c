import ArgumentParser
import BlockStore
import Engine
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

    @OptionGroup var importFlags: ImportFlags


    @Flag(name: [.customShort("r"), .long], help: "Add directories recursively.")
    var recursive = false

    @Flag(name: [.customShort("w"), .long], help: "Wrap the files in a directory (the root printed last).")
    var wrapWithDirectory = false

    @Flag(name: [.customShort("H"), .long], help: "Include files whose name starts with '.' inside directories.")
    var hidden = false

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

    @OptionGroup var pins: PinOptions

    /// Files, `-`, and Kubo's booleans that take an optional `=true|false` (which ArgumentParser
    /// options cannot express), picked out by `KuboArguments`: the import booleans and
    /// `--empty-dirs`, `--progress`, `--upgrade-cidv0-in-output`.
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp(
        "Files to add (- for standard input). Also accepts, each as --NAME[=true|false]: \(ImportFlags.booleanHelp), --empty-dirs (add empty directories met while walking; default true), --progress (show the progress bar), --upgrade-cidv0-in-output (print a CIDv0 as CIDv1; default: true when --cid-base is given).",
        valueName: "file"))
    var arguments: [String] = []

    /// The arguments split into paths and booleans.
    func splitArguments() throws -> KuboArguments {
        try KuboArguments(arguments, own: [
            "--empty-dirs": "--empty-dirs", "-E": "--empty-dirs", "--progress": "--progress", "-p": "--progress",
            "--upgrade-cidv0-in-output": "--upgrade-cidv0-in-output",
        ])
    }

    /// What the flags resolve to, once checked.
    private struct Settings {
        var split: KuboArguments
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
            // `--car-v2` only says how `--car` writes: alone it would be dropped in silence.
            if carV2 && car == nil { throw CLIError("--car-v2 needs --car OUT.car") }
            if car == "-" { throw CLIError("--car - is not supported: the CAR is written to a file (its root is patched in at the end)") }
            let encoder = try CIDTextEncoder(cidBase: cidBase, upgradeV0: split.booleans["--upgrade-cidv0-in-output"])
            return Settings(split: split, encoder: encoder, parameters: try importFlags.parameters(booleans: split.importBooleans))
        }
    }

    func validate() throws {
        _ = try settings()
    }

    func run() async throws {
        let settings = try settings()
        let (split, encoder, parameters) = (settings.split, settings.encoder, settings.parameters)
        var walk = WalkSettings(recursive: recursive, hidden: hidden, emptyDirectories: split.booleans["--empty-dirs"] ?? true)
        walk.symlinks = dereferenceSymlinks ? .followAll : (dereferenceArgs ? .followArguments : .store)
        do {
            // Kubo (go-ipfs-files NewFilter): the file's rules first, then each --ignore.
            var lines: [[UInt8]] = []
            if let ignoreRulesPath { lines = try IgnoreRules.lines(ofFile: ignoreRulesPath) }
            walk.ignore = IgnoreRules(byteLines: lines + ignore.map { Array($0.utf8) })
        } catch {
            throw CLIError(error.description)
        }
        var adder = Adder(parameters: parameters, threads: importFlags.threads, walk: walk)
        adder.wrap = wrapWithDirectory
        adder.standardInputName = stdinName
        let mode: AddOutput.Mode = silent ? .silent : (quieter ? .root : (quiet ? .cids : (json ? .json : .lines)))
        let output = AddOutput(mode: mode, encoder: encoder)
        // Kubo turns the bar on unless -q, -Q or --silent; here only on a terminal. -p/--progress
        // forces it either way.
        let showProgress = progressShort || (split.booleans["--progress"] ?? (isatty(2) != 0 && !quieter && !quiet && !silent))
        if showProgress { adder.progress = { AddProgress.reporter(name: $0) } }
        defer { if showProgress { AddProgress.clear() } }
        let inputs = split.paths.map { $0 == "-" ? AddInput.standardInput : .path($0) }
        do { try adder.check(inputs, toCAR: car != nil) } catch let error as EngineError { throw CLIError(error.message) }
        let destination: AddDestination
        if let car {
            destination = .car(path: car, format: carV2 ? .v2(index: .multihashSorted) : .v1)
        } else if onlyHash {
            destination = .nothing
        } else {
            destination = .store(try store.open(create: true), pin: pins.pin, pinName: pins.pinName)
        }
        do {
            try adder.add(inputs, to: destination) { event in
                if showProgress { AddProgress.clear() }
                output.added(event)
                try StandardOutput.check()  // standard output failed: stop here
            }
        } catch let error as ImportError {
            throw CLIError(error.description)
        } catch let error as ImportOptionsError {
            throw CLIError(error.description)
        } catch let error as BlockStoreError {
            throw CLIError(error.message)
        } catch let error as EngineError {
            throw CLIError(error.message)
        } catch {
            throw car.map { carFailure($0, error) } ?? error
        }
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


