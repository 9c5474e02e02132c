// Unsigned varints (spec/multiformats.md §1): a decoded varint re-encodes to exactly the bytes
// it was read from (the decoder only accepts minimal encodings), and both decode entry points
// (raw buffer, generic collection) agree.
import FuzzSupport
import Multiformats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVarint(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = inputBytes(data, size)
    let fromBuffer = bytes.withUnsafeBytes { raw in Result { () throws(MultiformatsError) in try Varint.decode(raw) } }
    let fromCollection = Result { () throws(MultiformatsError) in try Varint.decode(bytes[...].lazy.map { $0 }) }
    switch (fromBuffer, fromCollection) {
    case (.success(let a), .success(let b)):
        require(a == b, "buffer and collection decoders disagree: \(a) vs \(b)")
        require(a.length <= Varint.maxLength && a.value <= Varint.maxValue, "out of range: \(a)")
        require(Varint.encode(a.value) == Array(bytes[0..<a.length]), "re-encoding differs for \(a.value)")
        require(Varint.encodedLength(a.value) == a.length, "encodedLength differs for \(a.value)")
    case (.failure(let a), .failure(let b)):
        require(a.code == b.code, "buffer and collection decoders fail differently: \(a) vs \(b)")
    default:
        require(false, "one decoder accepted what the other refused: \(fromBuffer) vs \(fromCollection)")
    }
    return 0
}
