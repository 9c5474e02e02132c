import CCairnSystem

/// Removing a large file that a cancelled command wrote (a partial CAR, an uncommitted pack).
///
/// The kernel frees a file's pages, and waits for the ones still being written back, when
/// the last reference to the file goes: tens to hundreds of milliseconds for hundreds of MiB,
/// more than the 100 ms a signal allows (spec/system.md §4). When a signal is ending the
/// process, the name is removed at once (no partial state is visible) and the last reference
/// is handed to a child process that ends right after this one, so that the freeing happens
/// there. Otherwise (a failure, a library caller that goes on) the file is removed here.
public enum FileDisposal {
    /// True when a signal is ending the process (the only case where files are handed off).
    static var exiting: Bool { CancellationToken.process.signal != nil }

    /// Closes descriptors of files whose names are already removed.
    public static func closeUnlinked(_ fds: [Int32]) {
        let open = fds.filter { $0 >= 0 }
        guard !open.isEmpty else { return }
        if exiting { _ = open.withUnsafeBufferPointer { ccairn_hand_off_files($0.baseAddress, Int32($0.count)) } }
        for fd in open { SystemCall.close(fd) }
    }

    /// Removes the files at `paths` (unlinks them); 0, or the `errno` of the first failure
    /// (`ENOENT` included: the caller decides whether a missing file matters).
    @discardableResult
    public static func remove(_ paths: [String]) -> Int32 {
        var held: [Int32] = []
        if exiting {
            for path in paths.prefix(64) {
                let fd = platformOpen(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0)
                if fd >= 0 { held.append(fd) }
            }
        }
        var failure: Int32 = 0
        for path in paths where SystemCall.unlink(path) != 0 && failure == 0 { failure = errno }
        closeUnlinked(held)
        return failure
    }
}
