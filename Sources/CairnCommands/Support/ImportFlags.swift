import ArgumentParser
import UnixFS

/// The import flags of every command that imports (`add`, `car create`, and later `push`,
/// `oci add`), with Kubo's syntax. What each flag means and how its value parses is declared
/// once, in `ImportOptions.kuboFlags` (UnixFS); the options here only name the flags for
/// ArgumentParser and its help. Kubo's booleans (`--trickle/-t`, `--raw-leaves`, `--inline`,
/// `--preserve-mode`, `--preserve-mtime`) take an optional `=true|false`, which ArgumentParser
/// options cannot express: the command passes them on from its unrecognized arguments
/// (`KuboArguments`).
struct ImportFlags: ParsableArguments {
    @Option(name: [.customShort("s"), .long], help: "Chunking algorithm: size-N, rabin[-MIN-AVG-MAX], buzhash, fastcdc[-…].")
    var chunker: String?

    @Option(name: .long, help: "CID version: 0 or 1.")
    var cidVersion: String?

    @Option(name: .long, help: "Hash function (multicodec name, e.g. sha2-256, blake3).")
    var hash: String?

    @Option(name: .long, help: "Largest block to inline, in bytes (at most 128).")
    var inlineLimit: String?

    @Option(name: .long, help: "Most links per internal file node (default 174).")
    var maxFileLinks: String?

    @Option(name: .long, help: "Shard a directory into a HAMT above this many entries (0 = no limit).")
    var maxDirectoryLinks: String?

    @Option(name: .long, help: "HAMT fanout: a power of two from 8 to 1024 (default 256).")
    var maxHAMTFanout: String?

    @Option(name: .long, help: "Import preset: unixfs-v0-2015 (= legacy-cid-v0, Kubo's default) or unixfs-v1-2025.")
    var profile: String?

    @Option(name: .long, help: "Store this octal mode on every file and directory.")
    var mode: String?

    @Option(name: .long, help: "Store this modification time (Unix seconds) on every entry.")
    var mtime: String?

    @Option(name: .long, help: "Nanoseconds of --mtime.")
    var mtimeNsecs: String?

    @Option(name: .long, parsing: .unconditional, help: "Hashing threads (default: all cores).")
    var threads: Int?

    /// The help line for the booleans, for the command's unrecognized-arguments help.
    static let booleanHelp = "--trickle/-t (trickle layout), --raw-leaves (raw leaf blocks; default: on for CIDv1), --inline (inline small blocks into identity CIDs), --preserve-mode, --preserve-mtime (store permissions / modification times; UnixFS 1.5)"

    /// The options these flags give, with the booleans picked out of the arguments: the same
    /// `ImportOptions` as `ImportOptions(kuboArguments:)` gives for the same flags.
    func options(booleans: [(flag: KuboImportFlag, value: String?)]) throws -> ImportOptions {
        var options = ImportOptions()
        let values: [(String, String?)] = [
            ("--profile", profile), ("--chunker", chunker), ("--cid-version", cidVersion), ("--hash", hash),
            ("--inline-limit", inlineLimit), ("--max-file-links", maxFileLinks),
            ("--max-directory-links", maxDirectoryLinks), ("--max-hamt-fanout", maxHAMTFanout), ("--mode", mode),
            ("--mtime", mtime), ("--mtime-nsecs", mtimeNsecs),
        ]
        do {
            for (name, value) in values {
                if let value, let flag = ImportOptions.kuboFlag(named: name) { try options.apply(flag, value: value) }
            }
            for (flag, value) in booleans { try options.apply(flag, value: value) }
        } catch {
            throw CLIError("\(error)")
        }
        return options
    }

    /// The checked parameters and the importer's thread count; a bad value is a usage error.
    func parameters(booleans: [(flag: KuboImportFlag, value: String?)]) throws -> ImportParameters {
        try checkThreads(threads)
        do {
            return try options(booleans: booleans).resolve()
        } catch let error as ImportOptionsError {
            throw CLIError(error.description)
        }
    }
}

/// A command's unrecognized arguments split into its paths and Kubo's optional-value booleans
/// (`--NAME`, `--NAME=true`, `--NAME=false`): the import flags' and the command's own.
struct KuboArguments {
    var paths: [String] = []
    /// The import booleans given, in order.
    var importBooleans: [(flag: KuboImportFlag, value: String?)] = []
    /// The command's own booleans given, by long name.
    var booleans: [String: Bool] = [:]

    /// `own` maps each spelling of the command's own booleans to its long name.
    init(_ arguments: [String], own: [String: String] = [:]) throws {
        var onlyPaths = false
        for argument in arguments {
            if onlyPaths || argument == "-" || !argument.hasPrefix("-") {
                paths.append(argument)
                continue
            }
            if argument == "--" {
                onlyPaths = true
                continue
            }
            let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            let value = parts.count == 2 ? String(parts[1]) : nil
            if let value, value != "true", value != "false" {
                throw ValidationError("\(name) takes true or false, not '\(value)'")
            }
            if let flag = ImportOptions.kuboFlag(named: name), !flag.takesValue {
                importBooleans.append((flag, value))
            } else if let long = own[name] {
                booleans[long] = value != "false"
            } else {
                throw ValidationError("unknown option '\(argument)'")
            }
        }
    }
}
