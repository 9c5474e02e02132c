public import Multiformats

/// The links of a block, in order, by its codec: dag-pb links (`PBNode`), dag-cbor tag-42
/// links (`DagCBOR.links(in:)`); raw and every other codec have none (a walk ends there). The
/// one place that knows which codecs carry links: the store's GC mark, pins and repair, the CAR
/// exporter and verifier, `block put`'s validation and the network clients all use it.
///
/// A block that does not decode throws `BlockError(.invalidBlock)` ("not valid dag-pb: …").
public func links(codec: Multicodec, _ bytes: UnsafeRawBufferPointer) throws(BlockError) -> [CID] {
    switch codec {
    case .dagPB:
        do {
            return try PBNode(decoding: bytes, requireSortedLinks: false).links.map(\.hash)
        } catch {
            throw BlockError(.invalidBlock, "not valid dag-pb: \(error)")
        }
    case .dagCBOR:
        do {
            return try DagCBOR.links(in: bytes)
        } catch {
            throw BlockError(.invalidBlock, "not valid dag-cbor: \(error.detail)")
        }
    default:
        return []
    }
}

/// `links(codec:_:)` for the block of `cid`; the error names the block ("block CID is not
/// valid dag-pb: …").
public func links(of cid: CID, _ bytes: UnsafeRawBufferPointer) throws(BlockError) -> [CID] {
    do {
        return try links(codec: cid.codec, bytes)
    } catch {
        throw BlockError(error.code, "block \(cid) is \(error.message)")
    }
}

/// `links(of:_:)` over an array.
public func links(of cid: CID, _ bytes: [UInt8]) throws(BlockError) -> [CID] {
    let result = bytes.withUnsafeBytes { raw in Result { () throws(BlockError) in try links(of: cid, raw) } }
    return try result.get()
}

/// `links(codec:_:)` over an array.
public func links(codec: Multicodec, _ bytes: [UInt8]) throws(BlockError) -> [CID] {
    let result = bytes.withUnsafeBytes { raw in Result { () throws(BlockError) in try links(codec: codec, raw) } }
    return try result.get()
}

/// Whether Cairn follows the links of `codec` (dag-pb and dag-cbor), as opposed to a leaf codec.
public func hasLinks(_ codec: Multicodec) -> Bool {
    codec == .dagPB || codec == .dagCBOR
}
