import CCairnSystem

/// How the process's C allocator places large buffers (spec/system.md, "Memory").
///
/// glibc maps an allocation of its own above a threshold that starts at 128 KiB and, by
/// default, rises to the size of every such mapping freed (up to 32 MiB). After the first
/// 1 MiB buffer is freed, later ones come from the heap arena of whichever thread allocates
/// them, and what they free stays in that arena: a 4 GiB `cairn push` peaked at 62–71 MiB of
/// RSS (24–34 MiB anonymous) with it, and at 58–59 MiB (15–17 MiB anonymous) with the
/// threshold fixed at 1 MiB. The buffers that size or larger are few and long-lived (read
/// buffers, rings of pieces), so mapping each costs nothing measurable.
///
/// Fixing that threshold also fixes the one at which glibc gives free memory at the top of a
/// heap arena back to the system, at 128 KiB. A server reading 256 KiB at a time frees such
/// buffers at the top of its event loop's arena many times a second: each was given back and
/// the next faulted in and zeroed again, page by page (`clear_page` and page faults were a
/// tenth of `cairn serve`'s CPU in a 1 GiB `dag/import`). Keeping up to `keptAtTop` there
/// took that import from 1.14–1.24 s to 1.01–1.13 s (server system time 0.81–0.93 s to
/// 0.64–0.72 s) at the same peak RSS.
public enum Allocator {
    /// Allocations of this many bytes or more are mappings of their own, unmapped when freed.
    public static let mappedFrom = 1 << 20
    /// Free memory at the top of a heap arena is given back to the system beyond this many bytes.
    public static let keptAtTop = 32 << 20

    /// Fixes both thresholds (`mappedFrom`, `keptAtTop`); where the C library has no such
    /// setting, nothing. Call once, first thing in the process.
    public static func fixThresholds() {
        _ = ccairn_set_allocation_thresholds(mappedFrom, keptAtTop)
    }
}
