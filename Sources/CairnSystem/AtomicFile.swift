extension SystemCall {
    /// Writes `bytes` to `path` so that `path` holds either its old content or all of `bytes`:
    /// a temporary file beside it (written, fsynced), renamed over `path`, the directory
    /// synced. On failure the temporary file is removed and the error rethrown.
    public static func writeFileAtomically(_ bytes: UnsafeRawBufferPointer, to path: String) throws(SystemError) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporary = (folder == "/" ? "" : folder) + "/." + name + ".cairn-partial-\(getpid())"
        do throws(SystemError) {
            let fd = try open(temporary, O_WRONLY | O_CREAT | O_TRUNC)
            do throws(SystemError) {
                try writeAll(fd, bytes, path: temporary)
                try fsync(fd, path: temporary)
            } catch {
                close(fd)
                throw error
            }
            close(fd)
            try rename(temporary, to: path)
        } catch {
            _ = unlink(temporary)
            throw error
        }
        let directory = try open(folder, O_RDONLY | O_DIRECTORY)
        defer { close(directory) }
        try fsync(directory, path: folder)
    }
}
