import ArgumentParser
import BlockStore
import Foundation
import Hashing
import Multiformats
import UnixFS
import Blocks

/// `cairn block put|get|stat|rm`: single blocks in the store.
struct BlockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "block",
        abstract: "Store, read, describe and remove single blocks.",
        subcommands: [BlockPutCommand.self, BlockGetCommand.self, BlockStatCommand.self, BlockRmCommand.self]
    )
}

struct BlockPutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Store each file (or standard input) as one block; print its CID once it is durable.")

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Codec of the CIDs: raw (default), dag-pb or dag-cbor (the bytes must then be valid in that codec).")
    var cidCodec: String = "raw"

    @Option(name: .long, help: "Hash function (multicodec name, default sha2-256).")
    var mhtype: String = "sha2-256"

    @Option(name: .long, help: "CID version: 1 (default), or 0 for dag-pb with sha2-256.")
    var cidVersion: Int = 1

    @Argument(help: "Files to store (- for standard input, the default).")
    var files: [String] = ["-"]

    /// The hash function and codec the flags name; a bad value is a usage error (exit 64).
    private func format() throws -> (HashAlgorithm, Multicodec) {
        try validating {
            guard let algorithm = HashAlgorithm(name: mhtype), algorithm != .identity else {
                throw CLIError("unsupported --mhtype '\(mhtype)' (known: \(HashAlgorithm.allCases.filter { $0 != .identity }.map(\.name).joined(separator: ", ")))")
            }
            let codec: Multicodec
            switch cidCodec {
            case "raw": codec = .raw
            case "dag-pb": codec = .dagPB
            case "dag-cbor": codec = .dagCBOR
            default: throw CLIError("unsupported --cid-codec '\(cidCodec)' (known: raw, dag-pb, dag-cbor)")
            }
            guard cidVersion == 0 || cidVersion == 1 else { throw CLIError("--cid-version must be 0 or 1, got \(cidVersion)") }
            if cidVersion == 0 && (codec != .dagPB || algorithm != .sha2_256) {
                throw CLIError("CIDv0 is only for dag-pb blocks hashed with sha2-256")
            }
            return (algorithm, codec)
        }
    }

    func validate() throws {
        _ = try format()
    }

    func run() async throws {
        let (algorithm, codec) = try format()
        let blockStore = try store.open(create: true)
        for file in files {
            let bytes = try readAllInput(file, limit: 64 << 20)
            do {
                _ = try links(codec: codec, bytes)
            } catch {
                throw CLIError("\(file == "-" ? "standard input" : file) is \(error.message)")
            }
            let digest = algorithm.hash(bytes)
            let multihash = try Multihash(code: Multicodec(rawValue: algorithm.multihashCode)!, digest: digest.bytes)
            let cid = cidVersion == 0 ? try CID.v0(multihash) : CID.v1(codec: codec, multihash: multihash)
            try cid.checkSecure()  // always true of the hashes offered; the rule is Kubo's (CIDSecurity)
            // The CID was just computed from these bytes: the store need not hash them again.
            try storeCall { try blockStore.put(Block(cid: cid, bytes: bytes), verify: false) }
            writeStandardOutput("\(cid)\n")
        }
    }
}

struct BlockGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Write a block's bytes (verified) to standard output.")

    @OptionGroup var store: StoreOptions

    @Argument(help: "The block's CID.")
    var cid: String

    func run() async throws {
        let cid = try parseCID(cid)
        let blockStore = try store.open(create: false)
        let bytes = try storeCall { try blockStore.get(cid) }
        try bytes.withUnsafeBytes { try StandardOutput.write($0) }
    }
}

struct BlockStatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stat", abstract: "Print a block's CID and size.")

    @OptionGroup var store: StoreOptions

    @Argument(help: "The block's CID.")
    var cid: String

    func run() async throws {
        let cid = try parseCID(cid)
        let blockStore = try store.open(create: false)
        guard let size = try storeCall({ try blockStore.size(of: cid) }) else {
            throw CLIError("block \(cid) not found in \(blockStore.layout.root)")
        }
        writeStandardOutput("Key: \(cid)\nSize: \(size)\n")
    }
}

struct BlockRmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove blocks (refused for pinned blocks unless --force); space returns at the next gc.")

    @OptionGroup var store: StoreOptions

    @Flag(name: [.customShort("f"), .long], help: "Remove even pinned blocks.")
    var force = false

    @Argument(help: "CIDs of the blocks to remove.")
    var cids: [String]

    func run() async throws {
        let cids = try cids.map(parseCID)
        guard !cids.isEmpty else { throw CLIError("expected at least one CID") }
        let blockStore = try store.open(create: false)
        // One walk of the pins for every CID (spec/cli.md): each is removed, or reported.
        let outcomes = try storeCall { try blockStore.write { writer in try writer.delete(cids, force: force) } }
        var failures: [String] = []
        for (cid, outcome) in zip(cids, outcomes) {
            switch outcome {
            case .removed: writeStandardOutput("removed \(cid)\n")
            case .absent: failures.append("block \(cid) not found in \(blockStore.layout.root)")
            case .pinned(let reason): failures.append(reason)
            }
        }
        guard failures.isEmpty else {
            for failure in failures.dropLast() { writeErrorLine(failure) }
            throw CLIError(failures.last!)
        }
    }
}
