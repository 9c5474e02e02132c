// dag-cbor links (spec/unixfs.md, DagCBOR): the link walker never crashes; every link it
// returns is a CID whose binary form occurs in the block right after a 0x00 byte (tag 42's
// byte-string payload), and both entry points agree.
import FuzzSupport
import Multiformats
import Blocks

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDagCBOR(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = inputBytes(data, size)
    let viaArray = try? DagCBOR.links(in: bytes)
    let viaBuffer = bytes.withUnsafeBytes { raw in try? DagCBOR.links(in: raw) }
    require(viaArray == viaBuffer, "the two entry points disagree")
    guard let links = viaArray else { return 0 }
    for cid in links {
        let needle = [0x00] + cid.bytes
        require(contains(bytes, needle), "link \(cid) does not occur in the block")
    }
    return 0
}

private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count else { return false }
    for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
        if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
    }
    return false
}
