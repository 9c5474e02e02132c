public import Hashing
public import Multiformats

/// What checking a block's bytes against its CID found.
public enum BlockVerdict: Hashable, Sendable {
    /// The bytes hash to the CID's multihash (a truncated multihash compares its prefix; an
    /// identity multihash must equal the bytes).
    case valid
    /// They do not.
    case mismatch
    /// Cairn cannot compute the CID's hash function, or its digest is longer than the function
    /// gives: the block cannot be checked, so it is never accepted.
    case unsupported
}

/// Checking blocks against their CIDs: the one verifier of the store's reads and `verify`, the
/// CAR reader and exporter, and the network clients. One block at a time
/// (`BlockVerifier.verdict(_:_:)`), or batches hashed on every core through `BatchHasher`
/// (`check(_:count:into:)`), grouped by hash function.
public struct BlockVerifier {
    /// Hashing threads for batches (`nil`: the cores available).
    public let threads: Int?
    private var hashers: [HashAlgorithm: BatchHasher] = [:]
    private var groups: [HashAlgorithm: [Int]] = [:]
    private var inputs: [HashInput] = []
    private var digests: [Digest] = []
    private var verdicts: [BlockVerdict] = []

    public init(threads: Int? = nil) {
        self.threads = threads
    }

    /// The hash function that verifies `multihash`, if Cairn has it and computes at least as
    /// many digest bytes for a block of `count` bytes as the multihash holds.
    @inlinable
    public static func algorithm(for multihash: Multihash, blockLength count: Int) -> HashAlgorithm? {
        guard let algorithm = HashAlgorithm(multihashCode: multihash.code.rawValue),
              multihash.length <= algorithm.digestLength(forInputLength: count) else { return nil }
        return algorithm
    }

    /// Checks one block.
    public static func verdict(_ cid: CID, _ bytes: BlockBytes) -> BlockVerdict {
        let multihash = cid.multihash
        guard let algorithm = algorithm(for: multihash, blockLength: bytes.count) else { return .unsupported }
        if algorithm == .identity {
            // The digest is the block itself: equal, not merely a prefix.
            guard multihash.length == bytes.count else { return .mismatch }
        }
        let digest = algorithm.hash(bytes)
        return multihash.withUnsafeDigest { digest.starts(with: $0) } ? .valid : .mismatch
    }

    /// Checks one block of contiguous bytes.
    @inlinable
    public static func verdict(_ cid: CID, _ bytes: UnsafeRawBufferPointer) -> BlockVerdict {
        verdict(cid, BlockBytes(bytes))
    }

    /// Checks one block, throwing `BlockError` (`.hashMismatch`, `.unsupportedHash`) unless it
    /// is valid.
    public static func verify(_ cid: CID, _ bytes: UnsafeRawBufferPointer) throws(BlockError) {
        try BlockVerifier.throwing(verdict(cid, bytes), cid, count: bytes.count)
    }

    /// The error for a verdict other than `.valid` (nothing for `.valid`).
    public static func throwing(_ verdict: BlockVerdict, _ cid: CID, count: Int) throws(BlockError) {
        switch verdict {
        case .valid: return
        case .mismatch:
            throw BlockError(.hashMismatch, "block \(cid) does not match its CID: its \(count) bytes hash to another digest")
        case .unsupported:
            throw BlockError(.unsupportedHash, "block \(cid) cannot be verified: Cairn does not compute a \(cid.multihash.length)-byte \(cid.multihash.code) digest")
        }
    }

    /// Checks `count` blocks; `block(i)` gives the i-th CID and bytes (borrowed until this
    /// returns). Verdicts land in `verdicts` (cleared first), in order. Identity blocks are
    /// compared directly; the others are hashed in groups by function, each group in parallel.
    public mutating func check(count: Int, into verdicts: inout [BlockVerdict],
                               _ block: (Int) -> (cid: CID, bytes: BlockBytes)) {
        verdicts.removeAll(keepingCapacity: true)
        verdicts.append(contentsOf: repeatElement(BlockVerdict.valid, count: count))
        for key in groups.keys { groups[key]!.removeAll(keepingCapacity: true) }
        for index in 0..<count {
            let (cid, bytes) = block(index)
            guard let algorithm = BlockVerifier.algorithm(for: cid.multihash, blockLength: bytes.count) else {
                verdicts[index] = .unsupported
                continue
            }
            if algorithm == .identity {
                verdicts[index] = BlockVerifier.verdict(cid, bytes)
            } else {
                groups[algorithm, default: []].append(index)
            }
        }
        for (algorithm, indices) in groups where !indices.isEmpty {
            inputs.removeAll(keepingCapacity: true)
            for index in indices { inputs.append(block(index).bytes) }
            digests.removeAll(keepingCapacity: true)
            digests.append(contentsOf: repeatElement(Digest(), count: indices.count))
            let hasher = hasher(for: algorithm)
            inputs.withUnsafeBufferPointer { source in
                digests.withUnsafeMutableBufferPointer { target in hasher.hash(source, into: target) }
            }
            for (position, index) in indices.enumerated() {
                let multihash = block(index).cid.multihash
                if !multihash.withUnsafeDigest({ digests[position].starts(with: $0) }) { verdicts[index] = .mismatch }
            }
        }
    }

    /// Checks the blocks laid out in `bytes` (each CID with where its bytes lie) together, as
    /// `check` does, and throws `BlockError` for the first one, in order, that is not valid.
    /// For a buffer filled with blocks read unverified and checked before any of it goes out.
    public mutating func verify(_ blocks: [(cid: CID, offset: Int, length: Int)], in bytes: UnsafeRawBufferPointer) throws(BlockError) {
        guard !blocks.isEmpty else { return }
        var verdicts = self.verdicts
        defer { self.verdicts = verdicts }
        check(count: blocks.count, into: &verdicts) { i in
            (blocks[i].cid, BlockBytes(UnsafeRawBufferPointer(rebasing: bytes[blocks[i].offset..<(blocks[i].offset + blocks[i].length)])))
        }
        for (i, verdict) in verdicts.enumerated() where verdict != .valid {
            try BlockVerifier.throwing(verdict, blocks[i].cid, count: blocks[i].length)
        }
    }

    private mutating func hasher(for algorithm: HashAlgorithm) -> BatchHasher {
        if let hasher = hashers[algorithm] { return hasher }
        let made = BatchHasher(algorithm: algorithm, threads: threads)
        hashers[algorithm] = made
        return made
    }
}
