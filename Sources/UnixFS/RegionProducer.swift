import Chunking
import Hashing
import Blocks

import CairnSystem

/// Chunks a contiguous region (a memory map or caller memory) in place.
struct RegionProducer: ChunkProducer {
    let region: UnsafeRawBufferPointer
    let finder: Chunker
    let release: Bool
    var position = 0
    var released = 0
    let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    init(_ region: UnsafeRawBufferPointer, finder: Chunker, release: Bool) {
        self.region = region
        self.finder = finder
        self.release = release
    }

    mutating func fill(_ batch: LeafBatch, limits: BatchLimits, framing: UnixFSType?) throws {
        batch.count = 0
        guard let base = region.baseAddress else { return }
        var bytes = 0
        while position < region.count && batch.count < limits.leaves && bytes < limits.bytes {
            let window = UnsafeRawBufferPointer(start: base + position, count: region.count - position)
            let length = finder.checkedCut(in: window)
            batch.append(UnsafeRawBufferPointer(start: base + position, count: length), framing: framing)
            position += length
            bytes += length
        }
    }

    mutating func release(_ batch: LeafBatch) {
        guard release, batch.count > 0, let base = region.baseAddress else { return }
        let last = batch.inputs[batch.count - 1].body
        let end = (last.baseAddress! - base) + last.count
        let upTo = end / pageSize * pageSize
        if upTo > released {
            _ = madvise(UnsafeMutableRawPointer(mutating: base + released), upTo - released, Int32(MADV_DONTNEED))
            released = upTo
        }
    }
}
