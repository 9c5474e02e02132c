// dag-pb blocks (spec/unixfs.md): the decoder is strict, so a block it accepts is canonical and
// re-encodes to exactly its bytes; a block accepted with sorted links is accepted without the
// check too, to the same node. When the node's Data parses as UnixFS, that is checked as well.
import FuzzSupport
import Blocks

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDagPB(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = inputBytes(data, size)
    let unsorted = try? PBNode(decoding: bytes, requireSortedLinks: false)
    guard let node = try? PBNode(decoding: bytes) else { return 0 }
    require(unsorted == node, "decoding with and without the link-order check differs")
    require(node.linksAreSorted, "accepted with requireSortedLinks but links are not sorted")
    var encoded: [UInt8] = []
    node.encode(into: &encoded)
    require(encoded == bytes, "re-encoding differs (\(encoded.count) vs \(bytes.count) bytes)")
    if let payload = node.data, let unixfs = try? UnixFSData(decoding: payload) {
        var again: [UInt8] = []
        unixfs.encode(into: &again)
        require(again == payload, "UnixFS Data re-encoding differs")
    }
    return 0
}
