// Multibase text (spec/multiformats.md): decoding is stable under re-encoding, i.e.
// decode(encode(decode(text))) == decode(text) in the same base, and the decoded size never
// exceeds maxDecodedLength.
import FuzzSupport
import Multiformats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultibase(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = inputText(data, size)
    guard let (base, bytes) = try? Multibase.decode(text) else { return 0 }
    require(bytes.count <= base.maxDecodedLength(characterCount: text.utf8.count - 1),
            "\(base.name) decoded \(bytes.count) bytes, more than maxDecodedLength")
    let encoded = base.encode(bytes)
    require(encoded.utf8.count <= base.maxEncodedLength(byteCount: bytes.count) + 1,
            "\(base.name) encoding longer than maxEncodedLength")
    guard let (again, decoded) = try? Multibase.decode(encoded) else {
        require(false, "\(base.name) cannot decode its own encoding \(encoded)")
        return 0
    }
    require(again == base && decoded == bytes, "\(base.name) round trip differs")
    require((try? base.decodeWithoutPrefix(base.encodeWithoutPrefix(bytes))) == bytes,
            "\(base.name) prefix-less round trip differs")
    return 0
}
