import Hashing
import Blocks

/// Bounds of one batch.
struct BatchLimits {
    var bytes: Int
    var leaves: Int
}

/// One batch of leaves: their hash inputs (each chunk, borrowed from the producer, between its
/// framing bytes), the framing bytes and the digests. Allocated once per import and reused.
final class LeafBatch: @unchecked Sendable {
    static let framingStride = 32
    let capacity: Int
    var count = 0
    let inputs: UnsafeMutablePointer<HashInput>
    let digests: UnsafeMutablePointer<Digest>
    /// Per leaf: prefix at `i * 32`, suffix at `i * 32 + 20`.
    let framing: UnsafeMutableRawPointer

    init(capacity: Int) {
        self.capacity = capacity
        inputs = .allocate(capacity: capacity)
        digests = .allocate(capacity: capacity)
        digests.initialize(repeating: Digest(), count: capacity)
        framing = .allocate(byteCount: capacity * LeafBatch.framingStride, alignment: 16)
    }

    deinit {
        inputs.deallocate()
        digests.deinitialize(count: capacity)
        digests.deallocate()
        framing.deallocate()
    }

    /// Adds a chunk; for dag-pb leaves writes the UnixFS framing around it:
    /// prefix `0a len(U) 08 type 12 len(L)`, suffix `18 len(L)`, U = the UnixFS message.
    @inline(__always)
    func append(_ chunk: UnsafeRawBufferPointer, framing type: UnixFSType?) {
        let i = count
        if let type {
            let length = UInt64(chunk.count)
            let lengthSize = Wire.varintSize(length)
            let unixfs = 2 + 1 + lengthSize + chunk.count + 1 + lengthSize
            let prefix = (framing + i * LeafBatch.framingStride).assumingMemoryBound(to: UInt8.self)
            var p = prefix
            p[0] = 0x0A
            p += 1
            p += Wire.writeVarint(UInt64(unixfs), to: p)
            p[0] = 0x08
            p[1] = UInt8(type.rawValue)
            p[2] = 0x12
            p += 3
            p += Wire.writeVarint(length, to: p)
            let suffix = prefix + 20
            suffix[0] = 0x18
            let suffixCount = 1 + Wire.writeVarint(length, to: suffix + 1)
            inputs[i] = HashInput(
                prefix: UnsafeRawBufferPointer(start: prefix, count: p - prefix),
                body: chunk,
                suffix: UnsafeRawBufferPointer(start: suffix, count: suffixCount))
        } else {
            inputs[i] = HashInput(chunk)
        }
        count = i + 1
    }
}
