// Binary multihashes (spec/multiformats.md): a decoded multihash re-encodes to the bytes it was
// read from, and `init(bytes:)` accepts exactly the inputs that are one whole multihash.
import FuzzSupport
import Multiformats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultihash(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = inputBytes(data, size)
    let prefix = bytes.withUnsafeBytes { raw in
        Result { () throws(MultiformatsError) in try Multihash.decode(prefixOf: raw) }
    }
    let whole = Result { () throws(MultiformatsError) in try Multihash(bytes: bytes) }
    if case .success(let (multihash, length)) = prefix {
        require(length <= bytes.count, "length \(length) past the input")
        require(multihash.bytes == Array(bytes[0..<length]), "re-encoding differs")
        require(multihash.encodedLength == length, "encodedLength \(multihash.encodedLength) ≠ \(length)")
        require(multihash.digest.count == multihash.length, "digest count ≠ length")
        _ = multihash.description
        switch whole {
        case .success(let again): require(length == bytes.count && again == multihash, "whole decode differs")
        case .failure: require(length < bytes.count, "whole decode refused a complete multihash")
        }
    } else {
        if case .success = whole { require(false, "whole decode accepted what prefix decode refused") }
    }
    return 0
}
