// Chunker specs (spec/chunking.md): a spec that parses prints (`description`) as canonical text
// that parses back to the same spec, and the chunker it makes cuts a fixed 2 KiB input into
// chunks of 1…maximumChunkLength bytes that cover it exactly.
import Chunking
import FuzzSupport

/// Fixed pseudo-random content (xorshift64), the same on every run. 2 KiB: specs with small
/// sizes cut in it many times (size-N, rabin minimums from 16, fastcdc from 64) and Rabin's
/// four-lane scan runs (it needs 1 KiB ahead); buzhash and the large defaults make one chunk of
/// it, as they did of 8 KiB, which only made chunking most of each input's cost.
private let content: [UInt8] = {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    return (0..<2048).map { _ in
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return UInt8(truncatingIfNeeded: state >> 32)
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChunkerSpec(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = inputText(data, size)
    guard let spec = try? ChunkerSpec(parsing: text) else { return 0 }
    let canonical = spec.description
    require((try? ChunkerSpec(parsing: canonical)) == spec, "\(canonical) does not parse back to \(spec)")
    let chunker = spec.makeChunker()
    require(chunker.maximumChunkLength == spec.maximumChunkLength && chunker.maximumChunkLength > 0,
            "maximum chunk length \(chunker.maximumChunkLength) for \(canonical)")
    var covered = 0
    content.withUnsafeBytes { raw in
        chunker.forEachChunk(in: raw) { offset, chunk in
            require(offset == covered, "chunks are not contiguous")
            require(chunk.count <= spec.maximumChunkLength, "chunk longer than the maximum")
            covered += chunk.count
        }
    }
    require(covered == content.count, "chunks cover \(covered) of \(content.count) bytes")
    return 0
}
