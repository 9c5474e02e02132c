/// Bounds what the C allocator keeps (spec/serve.md §4): glibc gives each thread that meets
/// contention an arena of its own (up to 8 per core), and each arena holds on to freed
/// memory; a server whose event loops, pool threads and Dispatch workers all allocate block
/// buffers would grow an arena per thread. Two arenas serve the two kinds of thread (event
/// loops, blocking work) without contention worth the memory.
enum ProcessMemory {
    static func bound() {
        #if os(Linux)
        _ = glibcMallopt(arenaMax, 2)
        #endif
    }

    /// `M_ARENA_MAX` in glibc's `<malloc.h>` (which the Glibc module leaves out).
    private static let arenaMax: Int32 = -8
}

#if os(Linux)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
