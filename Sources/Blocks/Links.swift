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

/// An identity CID's block is its own digest: never stored or sent, yet a walk must reach
/// what it links to (an identity dag-pb node may link to real blocks). `cids` with each identity
/// CID replaced, in place, by the links of the block it holds, recursively (each nested one is
/// shorter, so the recursion ends); an identity CID of a codec without links just goes. Walks
/// that fetch, send, export or check a DAG (push, fetch, `dag export`, the gateway's CARs,
/// `car verify --complete`) follow links through it, as the store's GC mark does.
public func expandingIdentity(_ cids: [CID]) throws(BlockError) -> [CID] {
    guard cids.contains(where: { $0.multihash.code == .identity }) else { return cids }
    var result: [CID] = []
    for cid in cids {
        guard cid.multihash.code == .identity else { result.append(cid); continue }
        result.append(contentsOf: try expandingIdentity(try links(of: cid, cid.multihash.digest)))
    }
    return result
}

/// `links(of:_:)` with identity links expanded (`expandingIdentity`).
public func linksThroughIdentity(of cid: CID, _ bytes: UnsafeRawBufferPointer) throws(BlockError) -> [CID] {
    try expandingIdentity(try links(of: cid, bytes))
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
