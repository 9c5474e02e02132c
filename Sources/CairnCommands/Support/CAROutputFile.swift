import CAR
import Foundation

import CairnSystem

/// A CAR file that appears under its final name only when complete and synced (spec/cli.md):
/// written under a temporary name beside `path`, fsynced, renamed to `path`, and the directory
/// synced; on any failure the temporary file is removed (a failed removal is reported).
struct CAROutputFile {
    let path: String
    let temporary: String

    /// Checks `path` before any work starts: it must not be a directory.
    init(path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            throw CLIError("\(path) is a directory")
        }
        let url = URL(fileURLWithPath: path)
        self.path = path
        self.temporary = url.deletingLastPathComponent().path + "/." + url.lastPathComponent + ".cairn-partial-\(getpid())"
    }

    /// Runs `body` with the temporary file open, then moves it into place.
    func write<T>(_ body: (CARFileOutput) throws -> T) throws -> T {
        do {
            let output = try CARFileOutput(path: temporary)
            let result = try body(output)
            try output.close()
            do { try SystemCall.rename(temporary, to: path) } catch {
                throw CLIError("cannot move the CAR into place at \(path): \(error.reason)")
            }
            try syncDirectory()
            return result
        } catch {
            if unlink(temporary) != 0 && errno != ENOENT {
                throw CLIError("\(carFailure(path, error)); the partial file \(temporary) could not be removed: \(String(cString: strerror(errno)))")
            }
            throw error
        }
    }

    /// The rename is made durable by syncing the directory that holds the entry; if that
    /// fails, the CAR is removed again (it is not known to be durable) and the error reported.
    private func syncDirectory() throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            let directory = try SystemCall.open(folder, O_RDONLY | O_DIRECTORY)
            defer { SystemCall.close(directory) }
            try SystemCall.fsync(directory, path: folder)
        } catch {
            _ = SystemCall.unlink(path)
            throw error
        }
    }
}
