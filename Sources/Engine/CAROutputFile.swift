public import CAR
import Foundation

import CairnSystem

/// A CAR file that appears under its final name only when complete and synced (spec/engine.md):
/// written under a temporary name beside `path`, fsynced, renamed to `path`, and the directory
/// synced; on any failure the temporary file is removed (a failed removal is reported).
public struct CAROutputFile: Sendable {
    public let path: String
    public let temporary: String

    /// Checks `path` before any work starts: it must not be a directory. The CAR replaces a
    /// regular file there; a symlink is followed (the file it names is replaced, not the link);
    /// a FIFO, device or socket is refused, since the rename would replace it by a file.
    public init(path given: String) throws {
        var path = given
        var info = stat()
        if lstat(given, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK {
            guard let resolved = realpath(given, nil) else {
                throw EngineError(.invalidInput, "\(given) is a symlink to nothing: give the path of the file to write")
            }
            path = String(cString: resolved)
            free(resolved)
        }
        if stat(path, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR: throw EngineError(.invalidInput, "\(given) is a directory")
            default:
                throw EngineError(.invalidInput, "\(given) is not a regular file: a CAR is written under a temporary name and renamed into place, so give a file's path")
            }
        }
        let url = URL(fileURLWithPath: path)
        self.path = path
        self.temporary = url.deletingLastPathComponent().path + "/." + url.lastPathComponent + ".cairn-partial-\(getpid())"
    }

    /// Runs `body` with the temporary file open, then moves it into place.
    public func write<T>(_ body: (CARFileOutput) throws -> T) throws -> T {
        do {
            let output = try CARFileOutput(path: temporary)
            let result = try body(output)
            try output.close()
            do { try SystemCall.rename(temporary, to: path) } catch {
                throw EngineError(.io, "cannot move the CAR into place at \(path): \(error.reason)")
            }
            try syncDirectory()
            return result
        } catch {
            let failure = FileDisposal.remove([temporary])
            if failure != 0 && failure != ENOENT {
                throw EngineError(.io, "\(Self.describe(error, writing: path)); the partial file \(temporary) could not be removed: \(String(cString: strerror(failure)))")
            }
            throw error
        }
    }

    /// A one-line description of a failure while writing (or reading) the CAR at `path`: a CAR
    /// error names the file and its code, a cancellation says so.
    public static func describe(_ error: any Error, writing path: String) -> String {
        if let error = error as? CARError { return "\(path): \(error.code): \(error)" }
        if error is CancellationError { return "\(path): cancelled" }
        return "\(error)"
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
            throw EngineError(.io, "\(error) (the CAR at \(path) was removed: its directory entry is not known to be durable)")
        }
    }
}
