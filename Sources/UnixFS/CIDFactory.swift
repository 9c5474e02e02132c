import Hashing
import Multiformats
import Blocks

/// Turns digests into CIDs with the import's prefix rules (kubo-import-semantics.md §2):
/// one hash for every block; dag-pb blocks get the import's CID version; raw blocks are always
/// CIDv1; with `--inline`, blocks of at most `inlineLimit` bytes get an identity CIDv1.
@usableFromInline
struct CIDFactory {
    @usableFromInline let algorithm: HashAlgorithm
    @usableFromInline let hashCode: Multicodec
    @usableFromInline let dagVersion: CID.Version
    @usableFromInline let inlineLimit: Int?

    init(_ parameters: ImportParameters) {
        algorithm = parameters.hashAlgorithm
        hashCode = Multicodec(rawValue: parameters.hashAlgorithm.multihashCode)!
        dagVersion = parameters.cidVersion
        inlineLimit = parameters.inlineLimit
    }

    /// `put(codec: .dagPB, …)` for an encoded node held in an array.
    func putDagPB<Sink: BlockSink>(_ bytes: [UInt8], into sink: inout Sink) throws -> CID {
        try bytes.withUnsafeBytes { raw in try put(codec: .dagPB, raw, into: &sink) }
    }

    /// Hashes one encoded block (unless it is inlined), puts it into `sink`, returns its CID.
    func put<Sink: BlockSink>(codec: Multicodec, _ raw: UnsafeRawBufferPointer, into sink: inout Sink) throws -> CID {
        let block = BlockBytes(body: raw)
        let digest = inlines(raw.count) ? Digest() : algorithm.hash(raw)
        let cid = try cid(codec: codec, digest: digest, block: block)
        try sink.put(cid, block)
        return cid
    }

    /// Whether `length` bytes are inlined (then no digest is needed).
    @inlinable
    func inlines(_ length: Int) -> Bool {
        if let inlineLimit { return length <= inlineLimit }
        return false
    }

    @inlinable
    func cid(codec: Multicodec, digest: Digest, block: BlockBytes) throws(ImportError) -> CID {
        if inlines(block.count) {
            let bytes = block.array
            do {
                return CID.v1(codec: codec, multihash: try Multihash(code: .identity, digest: bytes))
            } catch {
                throw ImportError(.invalidBlock, "cannot inline a \(bytes.count)-byte block: \(error)")
            }
        }
        let made = digest.withUnsafeBytes { raw in
            Result { () throws(MultiformatsError) in try Multihash(code: hashCode, digest: raw) }
        }
        let multihash: Multihash
        switch made {
        case .success(let value): multihash = value
        case .failure(let error):
            throw ImportError(.invalidBlock, "cannot make a \(algorithm.name) multihash of a \(block.count)-byte block: \(error.message)")
        }
        if algorithm == .identity && block.count > ImportParameters.maxInlineLimit {
            throw ImportError(.invalidBlock, "an identity hash of a \(block.count)-byte block exceeds \(ImportParameters.maxInlineLimit) bytes")
        }
        if codec == .dagPB && dagVersion == .v0 {
            do {
                return try CID.v0(multihash)
            } catch {
                throw ImportError(.invalidBlock, error.description)
            }
        }
        return CID.v1(codec: codec, multihash: multihash)
    }
}
