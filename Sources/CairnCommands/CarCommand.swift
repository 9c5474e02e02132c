import CairnSystem
import Engine
import ArgumentParser
import CAR
import Multiformats
import UnixFS
import Blocks

/// `cairn car …`: CAR files (CARv1 and CARv2 with a go-car index); `export` and `import`, which
/// use the block store, are in CarStoreCommands.swift.
struct CarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "car",
        abstract: "Verify, list and create CAR files (CARv1, CARv2).",
        subcommands: [
            CarVerifyCommand.self, CarLsCommand.self, CarCreateCommand.self, CarExportCommand.self,
            CarImportCommand.self,
        ]
    )
}

/// Turns a CAR failure into the one-line CLI error.
func carFailure(_ file: String, _ error: any Error) -> any Error {
    guard error is CARError || error is CancellationError else { return error }
    return CLIError(CAROutputFile.describe(error, writing: file))
}

struct CarVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every block against its CID, the roots, the CARv2 header and index.",
        discussion: "Exit status 0 only if everything checks out; otherwise one line on stderr and status 1."
    )

    @Argument(help: "The CAR file (- for standard input).")
    var file: String

    @Flag(name: .long, help: "Also check that the DAG under each root is complete (dag-pb and dag-cbor links).")
    var complete = false

    @Flag(name: .long, help: "Accept blocks over 2 MiB (sections stay limited to 8 MiB).")
    var allowBigBlock = false

    @Flag(name: .long, help: "Do not read the CARv2 index.")
    var skipIndex = false

    @Option(name: .long, parsing: .unconditional, help: "Hashing threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        try validateThreads(threads)
    }

    func run() async throws {
        var options = CARVerifyOptions()
        options.checkComplete = complete
        options.checkIndex = !skipIndex
        options.read.allowBigBlock = allowBigBlock
        options.read.hashThreads = threads
        let summary = try carCall(file) { try CARVerifier.verify(path: file, options: options) }
        // The roots line is written in pieces: a header may list hundreds of thousands.
        var text = "version: \(summary.header.version)\nroots:"
        try writeRoots(summary.header.rootList, after: &text)
        text += "\nblocks: \(summary.blockCount) (\(summary.distinctBlocks) distinct)\n"
        text += "bytes: \(summary.blockBytes)\n"
        if let entries = summary.indexEntries { text += "index: \(entries) entries\n" }
        if summary.complete { text += "complete: yes\n" }
        text += "ok\n"
        writeStandardOutput(text)
    }
}

struct CarLsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the blocks of a CAR: one line per block, CID and size (each block verified)."
    )

    @Argument(help: "The CAR file (- for standard input).")
    var file: String

    @Flag(name: .long, help: "One JSON object per block: {\"cid\", \"size\", \"offset\"}.")
    var json = false

    @Flag(name: .long, help: "Accept blocks over 2 MiB.")
    var allowBigBlock = false

    func run() async throws {
        var options = CARVerifyOptions()
        options.requireRoots = false
        options.checkIndex = false
        options.read.allowBigBlock = allowBigBlock
        var lines = ""
        let json = self.json
        do {
            _ = try CARVerifier.verify(path: file, options: options) { block in
                if json {
                    lines += "{\"cid\":\"\(block.cid)\",\"size\":\(block.bytes.count),\"offset\":\(block.offset)}\n"
                } else {
                    lines += "\(block.cid) \(block.bytes.count)\n"
                }
                if lines.utf8.count >= 1 << 16 {
                    writeStandardOutput(lines)
                    lines = ""
                }
            }
        } catch {
            writeStandardOutput(lines)
            throw carFailure(file, error)
        }
        writeStandardOutput(lines)
    }
}

struct CarCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Import a file as `cairn add` does and write its blocks to a CAR (pipeline order, root last).",
        discussion: "The header root is patched in place at the end, so the output must be a regular file. The import flags are `cairn add`'s, with Kubo's syntax (--raw-leaves[=true|false])."
    )

    @Option(name: [.customShort("o"), .long], help: "The CAR to write.")
    var output: String

    @Flag(name: .long, help: "Write a CARv2 with a MultihashIndexSorted index.")
    var v2 = false

    @OptionGroup var importFlags: ImportFlags

    /// The file, and Kubo's import booleans (`--NAME[=true|false]`).
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp(
        "The file to import (- for standard input). Also accepts, each as --NAME[=true|false]: \(ImportFlags.booleanHelp).",
        valueName: "file"))
    var arguments: [String] = []

    /// The file and the import parameters the flags give; a bad value is a usage error (exit 64).
    private func settings() throws -> (file: String, parameters: ImportParameters) {
        try validating {
            let split = try KuboArguments(arguments)
            guard split.paths.count == 1 else { throw CLIError("expected one file argument (or - for standard input)") }
            // Not standard output: the header's root is written at the end, in place.
            if output == "-" { throw CLIError("-o - is not supported: car create writes a file (its root is patched in at the end)") }
            return (split.paths[0], try importFlags.parameters(booleans: split.importBooleans))
        }
    }

    func validate() throws {
        _ = try settings()
    }

    func run() async throws {
        let (file, parameters) = try settings()
        let adder = Adder(parameters: parameters, threads: importFlags.threads)
        let input: AddInput = file == "-" ? .standardInput : .path(file)
        let root: CID
        do {
            root = try adder.add([input], to: .car(path: output, format: v2 ? .v2(index: .multihashSorted) : .v1)) { _ in }
        } catch is ImportError where file != "-" && InputFile.isDirectory(file) {
            // The importer's advice ("use the '-r' flag") names a flag `car create` has not.
            throw CLIError("\(file) is a directory; `cairn car create` imports one file "
                + "(for a directory: cairn add -r --car \(output) \(file))")
        } catch let error as ImportError {
            throw CLIError(error.description)
        } catch let error as EngineError {
            throw CLIError(error.message)
        } catch {
            throw carFailure(output, error)
        }
        writeStandardOutput("\(root)\n")
    }
}

/// Appends " ROOT" for each root to `text`, writing it to standard output in 64 KiB pieces
/// (a header may list hundreds of thousands of roots); the caller writes the rest.
func writeRoots(_ roots: CARRoots, after text: inout String) throws {
    try roots.forEachRoot { root in
        text += " \(root)"
        if text.utf8.count >= 1 << 16 {
            writeStandardOutput(text)
            text = ""
        }
    }
}
