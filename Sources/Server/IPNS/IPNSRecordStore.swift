import BlockStore
import CairnSystem
import Foundation

/// Where IPNS records live: `<store>/ipns/<name>.ipns-record`, one file per name, replaced
/// atomically (spec/gateway.md §5.2).
public struct IPNSRecordStore: Sendable {
    public let directory: String

    public init(layout: StoreLayout) {
        directory = layout.root + "/ipns"
    }

    func path(_ name: IPNSName) -> String { directory + "/\(name).ipns-record" }

    /// Stores `record` for `name` crash-safely: written to a temporary file in the same
    /// directory, synced, renamed over the old one, and the directory synced. A reader sees
    /// the old record or the new one, never a mix.
    public func put(_ record: IPNSRecord, for name: IPNSName) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = directory + "/.\(name).\(getpid()).tmp"
        let fd = try SystemCall.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        do {
            try record.bytes.withUnsafeBytes { try SystemCall.writeAll(fd, $0, path: temporary) }
            try SystemCall.fsync(fd, path: temporary)
        } catch {
            SystemCall.close(fd)
            _ = SystemCall.unlink(temporary)
            throw error
        }
        SystemCall.close(fd)
        do {
            try SystemCall.rename(temporary, to: path(name))
        } catch {
            _ = SystemCall.unlink(temporary)
            throw error
        }
        let directoryFD = try SystemCall.open(directory, O_RDONLY)
        defer { SystemCall.close(directoryFD) }
        try SystemCall.fsync(directoryFD, path: directory)
    }

    /// The stored record bytes for `name`, nil when there is none.
    public func get(_ name: IPNSName) throws -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path(name)) else { return nil }
        return [UInt8](data)
    }
}
