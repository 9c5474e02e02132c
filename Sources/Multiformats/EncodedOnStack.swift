extension CID {
    /// Calls `body` with the binary CID, encoded on the stack (no array: for hot paths that
    /// hash, bind or copy a CID per block or per link).
    public func withEncoded<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(byteCount: encodedLength, alignment: 8) { raw in
            let n = encode(to: raw)
            return try body(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
        }
    }
}

extension Multihash {
    /// Calls `body` with the binary multihash (the block store's index key), encoded on the stack.
    public func withEncoded<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(byteCount: encodedLength, alignment: 8) { raw in
            let n = encode(to: raw)
            return try body(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
        }
    }
}
