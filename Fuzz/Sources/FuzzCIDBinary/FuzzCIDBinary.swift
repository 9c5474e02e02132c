// Binary CIDs (spec/multiformats.md): a decoded CID re-encodes to the bytes it was read from;
// its text form parses back to the same CID; v0 ⇄ v1 conversions are consistent.
import FuzzSupport
import Multiformats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCIDBinary(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = inputBytes(data, size)
    let prefix = bytes.withUnsafeBytes { raw in
        Result { () throws(MultiformatsError) in try CID.decode(prefixOf: raw) }
    }
    guard case .success(let (cid, length)) = prefix else {
        if (try? CID(bytes: bytes)) != nil { require(false, "whole decode accepted what prefix decode refused") }
        return 0
    }
    require(cid.bytes == Array(bytes[0..<length]), "re-encoding differs")
    var encoded: [UInt8] = []
    cid.encode(into: &encoded)
    require(encoded == cid.bytes, "encode(into:) differs from bytes")
    require((try? CID(bytes: bytes)) == (length == bytes.count ? cid : nil), "whole decode disagrees")
    let base: Multibase = cid.version == .v0 ? .base58btc : .base32
    if let text = try? cid.string(base: base) {
        require((try? CID(text)) == cid, "text form \(text) does not parse back")
    }
    let v1 = cid.toV1()
    require(v1.multihash == cid.multihash, "toV1 changed the multihash")
    if let v0 = try? v1.toV0() { require(v0.toV1() == v1, "v1 → v0 → v1 differs") }
    _ = cid.description
    return 0
}
