// CID text (spec/multiformats.md): whatever parses, re-formats in its own base (v0: bare
// base58btc) and in base32/base36 as CIDv1, and each of those parses back to the same CID.
import FuzzSupport
import Multiformats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCIDString(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = inputText(data, size)
    guard let cid = try? CID(text) else { return 0 }
    if cid.version == .v0 {
        require((try? cid.string(base: .base58btc)) == text, "a CIDv0 re-encodes to other text")
    } else if let base = text.utf8.first.flatMap({ Multibase(prefixByte: $0) }),
              let again = try? cid.string(base: base) {
        require((try? CID(again)) == cid, "\(again) does not parse back")
    }
    for base in [Multibase.base32, .base36, .base58btc, .base64url] {
        let v1 = cid.toV1()
        guard let formatted = try? v1.string(base: base) else {
            require(false, "CIDv1 cannot be written in \(base.name)")
            return 0
        }
        require((try? CID(formatted)) == v1, "\(formatted) does not parse back")
    }
    return 0
}
