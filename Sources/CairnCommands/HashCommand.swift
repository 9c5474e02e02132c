import ArgumentParser
import Hashing
import Multiformats

/// `cairn hash`: the CIDv1 of a file or of standard input taken as one block.
struct HashCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Print the CIDv1 of the input taken as one block.",
        discussion: """
            The whole input is one block: no chunking, no DAG. Hash names are multicodec names \
            (sha2-256, sha2-512, sha3-256, sha3-512, blake2b-256, blake2b-512, blake3, identity).
            """
    )

    @Option(name: .long, help: "Hash function (multicodec name).")
    var hash: String = "sha2-256"

    @Option(name: .long, help: "Codec of the block: raw or dag-pb.")
    var codec: String = "raw"

    @Option(name: .long, help: "Multibase of the printed CID.")
    var base: String = "base32"

    @Argument(help: "A file, or - for standard input.")
    var input: String

    /// Identity multihashes carry the input itself; anything larger is refused.
    static let identityLimit = 128

    func validate() throws {
        guard HashAlgorithm(name: hash) != nil else {
            throw ValidationError("unknown hash function '\(hash)' (try: \(HashAlgorithm.allCases.map(\.name).joined(separator: ", ")))")
        }
        guard codec == "raw" || codec == "dag-pb" else {
            throw ValidationError("unsupported codec '\(codec)' for cairn hash (raw or dag-pb)")
        }
        guard Multibase(name: base) != nil else {
            throw ValidationError("unknown multibase '\(base)'")
        }
    }

    func run() async throws {
        let algorithm = HashAlgorithm(name: hash)!
        let multibase = Multibase(name: base)!
        let codec = Multicodec(name: self.codec)!
        let source = try ByteInput(path: input)
        let digestBytes: [UInt8]
        if algorithm == .identity {
            var all: [UInt8] = []
            try source.forEachBlock(blockSize: 64 << 10) { block in
                all.append(contentsOf: block)
                if all.count > Self.identityLimit {
                    throw CLIError("input too large for an identity CID (\(Self.identityLimit) bytes at most)")
                }
            }
            digestBytes = all
        } else {
            var hasher = algorithm.makeHasher()
            try source.forEachBlock { hasher.update($0) }
            digestBytes = hasher.finalize().bytes
        }
        let multihash: Multihash
        do {
            multihash = try Multihash(code: Multicodec(rawValue: algorithm.multihashCode)!, digest: digestBytes)
        } catch {
            throw CLIError("cannot build the multihash: \(error)")
        }
        let cid = CID.v1(codec: codec, multihash: multihash)
        writeStandardOutput(try cid.string(base: multibase) + "\n")
    }
}
