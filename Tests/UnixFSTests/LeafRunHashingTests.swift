import Blocks
import CairnSystem
import Hashing
import Testing
@testable import UnixFS

/// A batch of leaves of varied lengths (content-defined chunks) is hashed in one contiguous run
/// per thread (HashStage.swift): every digest must still be the one of its own leaf, in order.
/// Expected digests come from the OpenSSL kernel, one leaf at a time.
@Suite struct LeafRunHashingTests {
    @Test(arguments: [1, 2, 3, 8])
    func variedLengthsHashLikeOneAtATime(threads: Int) throws {
        let reference = try #require(HashKernel.named("openssl", for: .sha2_256))
        var bytes = [UInt8](repeating: 0, count: 3 << 20)
        var state: UInt64 = 16
        for i in bytes.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes[i] = UInt8(truncatingIfNeeded: state >> 56)
        }
        // 300 leaves from 1 byte to 20 000 bytes, lengths out of order; the last one short.
        let lengths = (0..<300).map { 1 + ($0 &* 7919) % 20_000 }
        let batch = LeafBatch(capacity: lengths.count)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            for (index, length) in lengths.enumerated() {
                batch.append(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + length]),
                             framing: index % 2 == 0 ? .file : nil)
                offset += length
            }
            BatchHasher(algorithm: .sha2_256, threads: threads).hash(batch, cancellation: CancellationToken())
            let inputs = UnsafeBufferPointer(start: batch.inputs, count: batch.count)
            var expected = [Digest](repeating: Digest(), count: batch.count)
            expected.withUnsafeMutableBufferPointer { reference.hash(inputs, into: $0.baseAddress!) }
            for index in 0..<batch.count {
                #expect(batch.digests[index] == expected[index], "leaf \(index)")
            }
        }
        #expect(batch.count == lengths.count)
    }
}
