#if canImport(Glibc)
import Glibc
#endif

/// Removes a directory tree however deep, through descriptors: no path longer than one name
/// is ever built, so a tree past PATH_MAX (which Foundation's removal cannot reach) goes too.
/// One directory is open at a time: the walk goes down with `openat(name, O_NOFOLLOW)` and
/// back up through `..`, which is the parent because every step down refused a symlink. For
/// trees this process made (a partial output); 0, or the `errno` of the first failure.
public enum TreeRemoval {
    @discardableResult
    public static func remove(_ top: String) -> Int32 {
        var info = stat()
        guard lstat(top, &info) == 0 else { return errno }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return unlink(top) == 0 ? 0 : errno }
        var fd = open(top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        var names: [String] = []  // the path from `top` down to `fd`, one name per level
        while true {
            // Removes what is not a directory; returns the first subdirectory, if any.
            let listing = dup(fd)
            guard listing >= 0, let stream = fdopendir(listing) else {
                let failure = errno
                if listing >= 0 { close(listing) }
                close(fd)
                return failure
            }
            var subdirectory: String? = nil
            var failure: Int32 = 0
            while subdirectory == nil, let entry = readdir(stream) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
                }
                if name == "." || name == ".." { continue }
                var child = stat()
                guard fstatat(fd, name, &child, AT_SYMLINK_NOFOLLOW) == 0 else { failure = errno; break }
                if (child.st_mode & S_IFMT) == S_IFDIR {
                    subdirectory = name
                } else if unlinkat(fd, name, 0) != 0 {
                    failure = errno
                    break
                }
            }
            closedir(stream)
            if failure != 0 { close(fd); return failure }
            if let subdirectory {
                let next = openat(fd, subdirectory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard next >= 0 else { let failure = errno; close(fd); return failure }
                close(fd)
                fd = next
                names.append(subdirectory)
                continue
            }
            // Empty: go up and remove it.
            guard let name = names.popLast() else {
                close(fd)
                return rmdir(top) == 0 ? 0 : errno
            }
            let parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            close(fd)
            guard parent >= 0 else { return errno }
            fd = parent
            guard unlinkat(fd, name, AT_REMOVEDIR) == 0 else { let failure = errno; close(fd); return failure }
        }
    }
}
