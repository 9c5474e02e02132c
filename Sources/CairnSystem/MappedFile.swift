import CCairnSystem

/// A read-only memory map of a whole regular file, guarded: if the file is truncated while it is
/// mapped, the pages past its new end read as zeros instead of raising SIGBUS, and `damaged`
/// reports it afterwards (the caller then fails instead of using the bytes).
public enum MappedFile {
    /// Maps the first `size` bytes of `fd` (which must be at offset 0), applies `advice`
    /// (`madvise`), runs `body` on the bytes and unmaps. Nil when the file cannot be mapped or
    /// guarded (the caller reads it instead); `damaged` is whether it shrank meanwhile.
    public static func withMapping<Result>(
        _ fd: Int32, size: Int, advice: Int32 = Int32(MADV_SEQUENTIAL),
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> (result: Result, damaged: Bool)? {
        guard lseek(fd, 0, SEEK_CUR) == 0 else { return nil }
        return try withMapping(fd, offset: 0, length: size, advice: advice, body)
    }
}

extension MappedFile {
    /// Maps bytes `offset ..< offset + length` of `fd` (any offset: the map starts at the page
    /// below it), guarded as ``withMapping(_:size:advice:_:)``; `body` gets the region and may
    /// `madvise` whole pages inside it. Nil when the file cannot be mapped or guarded.
    public static func withMapping<Result>(
        _ fd: Int32, offset: Int64, length: Int, advice: Int32 = Int32(MADV_SEQUENTIAL),
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> (result: Result, damaged: Bool)? {
        let page = Int64(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / page * page
        let size = length + Int(offset - start)
        guard length > 0, offset >= 0,
              let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, off_t(start)), mapping != MAP_FAILED else { return nil }
        defer { munmap(mapping, size) }
        let slot = ccairn_guard_register(mapping, size)
        guard slot >= 0 else { return nil }
        defer { ccairn_guard_unregister(slot) }
        _ = madvise(mapping, size, advice)
        let result = try body(UnsafeRawBufferPointer(start: mapping + Int(offset - start), count: length))
        return (result, ccairn_guard_damaged(slot) != 0)
    }
}
