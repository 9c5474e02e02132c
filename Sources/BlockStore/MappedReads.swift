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

    /// Drops the mapping's page-table entries; its bytes stay readable (refilled from the file).
    func dropResidentPages() {
        _ = madvise(UnsafeMutableRawPointer(mutating: base), length, MADV_DONTNEED)
    }

    deinit {
        ccairn_guard_unregister(guardSlot)
        munmap(UnsafeMutableRawPointer(mutating: base), length)
    }
}

/// Mappings of this store object's packs, kept until the store object goes away.
///
/// The pages of a mapping the process has read stay in its page tables, and so in its resident
/// size, until they are unmapped: an export of a 1 GiB DAG through a server's long-lived store
/// left 1.1 GB resident for good (`cairn car export` peaked there too). So every
/// `residentBound` bytes lent, the packs lent from since the last time drop their page-table
/// entries (`MADV_DONTNEED`): the bytes stay valid, in the page cache, and a pointer already
/// handed out reads them again through a page fault (a read-only `MAP_SHARED` mapping of a file
/// is refilled from the file, and pack bytes never change).
final class PackMappings: Sendable {
    private struct State {
        var mappings: [Int64: [PackMapping]] = [:]
        /// Packs lent from since the last release, and the bytes lent.
        var touched: Set<Int64> = []
        var lent = 0
    }

    private let state = Mutex(State())
    /// How many bytes may be lent between two releases.
    let residentBound: Int

    init(residentBound: Int = 16 << 20) {
        self.residentBound = residentBound
    }

    /// A mapping of `pack` that covers `end` bytes, mapping it (again) if needed. Older, shorter
    /// mappings stay alive: bytes handed out from them remain valid.
    func mapping(of pack: Int64, covering end: Int, open: () throws -> Int32) throws -> PackMapping? {
        if let existing = state.withLock({ $0.mappings[pack]?.last }), existing.length >= end { return existing }
        guard let fresh = PackMapping(fd: try open()), fresh.length >= end else { return nil }
        state.withLock { $0.mappings[pack, default: []].append(fresh) }
        return fresh
    }

    /// Counts `count` bytes lent from `pack`, at least 64 KiB (reading a page of a file mapping
    /// maps up to 16 pages around it, the kernel's fault-around); past `residentBound` since the
    /// last release, the mappings of every pack lent from since then give their pages back.
    func lent(_ count: Int, from pack: Int64) {
        let release: [PackMapping] = state.withLock { state in
            state.touched.insert(pack)
            state.lent += max(count, 64 << 10)
            guard state.lent >= residentBound else { return [] }
            let packs = state.touched
            state.touched.removeAll(keepingCapacity: true)
            state.lent = 0
            return packs.flatMap { state.mappings[$0] ?? [] }
        }
        for mapping in release { mapping.dropResidentPages() }
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
        packMappings.lent(location.length, from: location.pack)
        return UnsafeRawBufferPointer(start: mapping.base + Int(location.offset), count: location.length)
    }
}
