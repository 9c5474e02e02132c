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
public enum Allocator {
    /// Allocations of this many bytes or more are mappings of their own, unmapped when freed.
    public static let mappedFrom = 1 << 20

    /// Fixes the threshold (`mappedFrom`); where the C library has no such setting, nothing.
    /// Call once, first thing in the process.
    public static func fixMappingThreshold() {
        _ = ccairn_set_mmap_threshold(mappedFrom)
    }
}
