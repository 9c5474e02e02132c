public import CAR
import Foundation

import CairnSystem

/// A CAR file that appears under its final name only when complete and synced (spec/engine.md):
/// written under a temporary name beside `path`, fsynced, renamed to `path`, and the directory
/// synced; on any failure the temporary file is removed (a failed removal is reported).
public struct CAROutputFile: Sendable {
    public let path: String
    public let temporary: String

    /// Checks `path` before any work starts: it must not be a directory.
    public init(path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            throw EngineError(.invalidInput, "\(path) is a directory")
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
