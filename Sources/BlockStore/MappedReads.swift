internal import CCairnSystem
import Synchronization
public import Multiformats

import CairnSystem

/// A read-only mapping of one pack file, as long as it was when mapped.
///
/// Packs are append-only and the index only points at committed bytes, so a mapping never sees
/// a byte change under it; a compaction that deletes a pack leaves existing mappings valid (the
/// file lives on until unmapped). The mapping is guarded (see CCairnSystem): should the file be
/// truncated anyway, reads past the new end give zeros, which fail verification, instead of
/// SIGBUS.
final class PackMapping: @unchecked Sendable {
    let base: UnsafeRawPointer
    let length: Int
    private let guardSlot: Int32

    init?(fd: Int32) {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return nil }
        let length = Int(info.st_size)
        guard let mapping = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0), mapping != MAP_FAILED else { return nil }
        let slot = ccairn_guard_register(mapping, length)
        guard slot >= 0 else {
            munmap(mapping, length)
            return nil
        }
        self.base = UnsafeRawPointer(mapping)
        self.length = length
        self.guardSlot = slot
    }

    var damaged: Bool { ccairn_guard_damaged(guardSlot) != 0 }

    deinit {
        ccairn_guard_unregister(guardSlot)
        munmap(UnsafeMutableRawPointer(mutating: base), length)
    }
}

/// Mappings of this store object's packs, kept until the store object goes away.
final class PackMappings: Sendable {
    private let mappings = Mutex<[Int64: [PackMapping]]>([:])

    /// A mapping of `pack` that covers `end` bytes, mapping it (again) if needed. Older, shorter
    /// mappings stay alive: bytes handed out from them remain valid.
    func mapping(of pack: Int64, covering end: Int, open: () throws -> Int32) throws -> PackMapping? {
        if let existing = mappings.withLock({ $0[pack]?.last }), existing.length >= end { return existing }
        guard let fresh = PackMapping(fd: try open()), fresh.length >= end else { return nil }
        mappings.withLock { $0[pack, default: []].append(fresh) }
        return fresh
    }
}

extension BlockStore {
    /// The block's bytes in place in its (memory-mapped) pack, **not verified**: for callers
    /// that check blocks themselves, in batches (`cairn car export`). The bytes stay valid as
    /// long as this `BlockStore` object exists. Identity CIDs give nil (their bytes are in the
    /// CID); so does a block that cannot be mapped (use `get` then). `.notFound` when absent.
    public func unverifiedBytes(of cid: CID) throws -> UnsafeRawBufferPointer? {
        if cid.multihash.code == .identity { return nil }
        guard let entry = try entry(cid.multihash) else {
            throw BlockStoreError(.notFound, "block \(cid) not found in \(layout.root)")
        }
        let location = entry.location
        let end = Int(location.offset) + location.length
        guard let mapping = try packMappings.mapping(of: location.pack, covering: end, open: { try readHandle(location.pack) })
        else { return nil }
        if mapping.damaged {
            throw BlockStoreError(.corrupt, "pack \(PackFormat.fileName(location.pack)) shrank while it was mapped")
        }
        return UnsafeRawBufferPointer(start: mapping.base + Int(location.offset), count: location.length)
    }
}
