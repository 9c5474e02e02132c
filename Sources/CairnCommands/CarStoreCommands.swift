import ArgumentParser
import Engine
import Hashing
import BlockStore
import CAR
import Foundation
import Multiformats
import Blocks

import CairnSystem

/// `cairn car export CID -o FILE`: the DAG under a root, from the store, as a CAR.
struct CarExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the DAG under a root from the store to a CAR (depth-first, each block once).",
        discussion: """
            Every block is verified against its CID as it is read. The CAR is written to a \
            temporary file beside FILE and renamed into place only when complete, so a failed \
            export leaves nothing behind. `-o -` writes a CARv1 to standard output.
            """
    )

    @Argument(help: "The root CID.")
    var root: String

    @Option(name: [.customShort("o"), .long], help: "The CAR to write (- for standard output).")
    var output: String

    @Flag(name: .long, help: "Write a CARv2 with a MultihashIndexSorted index.")
    var v2 = false

    @OptionGroup var store: StoreOptions

    func validate() throws {
        if v2 && output == "-" { throw ValidationError("a CARv2 needs a file (its header is written last), not standard output") }
    }

    func run() async throws {
        let cid = try parseCID(root)
        let exporter = Exporter(blocks: try store.open(create: false))
        let format: CARFormat = v2 ? .v2(index: .multihashSorted) : .v1
        let export = { (out: CARFileOutput) in
            try storeCall { try exporter.exportCAR(cid, into: out, format: format) }
        }
        if output == "-" {
            try carCall(output) { try export(CARFileOutput(descriptor: 1, name: "standard output")) }
            return
        }
        try CAROutputFile(path: output).write { out in try carCall(output) { try export(out) } }
    }
}

/// `cairn car import FILE`: verify a CAR, store its blocks, pin its roots.
struct CarImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Verify a CAR, store its blocks and pin its roots (all or nothing).",
        discussion: """
            Every block is checked against its CID. Blocks are written to the store's packs as \
            they are read, but nothing becomes visible until the whole CAR has passed: a bad \
            CAR (a wrong hash, a truncation, a section over the limits, a missing root) leaves \
            the store unchanged. With pinning (the default) every root's DAG must be complete \
            in the CAR; roots are pinned recursively in the same commit as the blocks.
            """
    )

    @Argument(help: "The CAR (- for standard input).")
    var file: String

    @Option(name: .long, help: "Pin the roots (default true); --pin=false stores the blocks only.")
    var pin: Bool = true

    @Option(name: .long, help: "Name given to the roots' pins.")
    var pinName: String?

    @Flag(name: .long, help: "Accept blocks larger than 2 MiB (up to the section limit).")
    var allowBigBlock = false

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let summary = try importCARIntoStore(file, store: try store.open(create: true), pin: pin, pinName: pinName,
                                             allowBigBlock: allowBigBlock)
        var text = "imported \(summary.distinctBlocks) blocks (\(summary.blockBytes) bytes)"
        if pin {
            text += ", pinned"
            try writeRoots(summary.header.rootList, after: &text)
        }
        writeStandardOutput(text + "\n")
    }
}

/// Verifies the CAR `file` and stores its blocks (pinning its roots with `pin`) in one commit
/// at the end: a bad CAR leaves the store unchanged (`car import`, `push FILE.car`).
func importCARIntoStore(
    _ file: String, store blocks: BlockStore, pin: Bool, pinName: String?, allowBigBlock: Bool = false
) throws -> CARSummary {
    var options = CARVerifyOptions()
    options.read.allowBigBlock = allowBigBlock
    options.checkComplete = pin
    options.requireRoots = pin
    let writer = try storeCall { try blocks.writer() }
    // One commit at the end, whatever the number of packs filled: until then the index
    // knows nothing of the new pack bytes.
    writer.commitsOnlyWhenAsked = true
    let summary: CARSummary
    do {
        let source = try CARFileSource(path: file)
        summary = try CARExport.importCAR(from: source, options: options) { cid, bytes in
            try writer.put(cid, BlockBytes(body: bytes))  // borrowed; the reader verified it
        }
    } catch {
        writer.abandon()
        throw carFailure(file, error)
    }
    do {
        try storeCall {
            if pin {
                try writer.commit(pinningEach: summary.header.rootList.forEachRoot, recursive: true, name: pinName)
            } else {
                try writer.commit()
            }
            try writer.close()
        }
    } catch {
        writer.abandon()
        throw error
    }
    return summary
}

/// Runs a CAR step, turning its errors into one-line CLI errors naming the file.
func carCall<T>(_ file: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw carFailure(file, error)
    }
}
