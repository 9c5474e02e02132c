// UnixFS Data messages (spec/unixfs.md): the decoder is strict, so a message it accepts
// re-encodes to exactly its bytes.
import FuzzSupport
import Blocks

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUnixFSData(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = inputBytes(data, size)
    guard let message = try? UnixFSData(decoding: bytes) else { return 0 }
    var encoded: [UInt8] = []
    message.encode(into: &encoded)
    require(encoded == bytes, "re-encoding differs (\(encoded.count) vs \(bytes.count) bytes)")
    return 0
}
