import Foundation
import CairnSystem

/// Writes an image layout directory as an oci-archive (spec/oci.md §8): a POSIX tar of
/// `oci-layout`, `index.json` and `blobs/…` (directories first, names sorted), regular files
/// mode 0644, directories 0755, owner 0, mtime 0; a name longer than ustar's 100 bytes gets a
/// pax `path` record, a size of 8 GiB or more a pax `size` record. Written to `path + ".part"`, synced, then renamed: all or nothing.
public enum LayoutArchiveWriter {
    public static func write(layout directory: String, to path: String) throws(OCIError) {
        let temporary = path + ".part"
        FileManager.default.createFile(atPath: temporary, contents: nil)
        guard let out = FileHandle(forWritingAtPath: temporary) else {
            throw OCIError(.io, "cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        do {
            for name in try entries(directory) {
                let full = directory + "/" + name
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory)
                if isDirectory.boolValue {
                    try out.write(contentsOf: header(name + "/", size: 0, type: "5"))
                    continue
                }
                let size = (try FileManager.default.attributesOfItem(atPath: full)[.size] as? NSNumber)?.int64Value ?? 0
                try out.write(contentsOf: header(name, size: size, type: "0"))
                guard let input = FileHandle(forReadingAtPath: full) else { throw OCIError(.io, "cannot read \(full)") }
                defer { try? input.close() }
                var written: Int64 = 0
                while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                    try out.write(contentsOf: chunk)
                    written += Int64(chunk.count)
                }
                guard written == size else { throw OCIError(.io, "\(full) changed while it was archived") }
                try out.write(contentsOf: Data(count: Int((512 - size % 512) % 512)))
            }
            try out.write(contentsOf: Data(count: 1024))
            try out.synchronize()
            try out.close()
            guard rename(temporary, path) == 0 else { throw OCIError(.io, "cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))") }
        } catch {
            try? out.close()
            unlink(temporary)
            if let error = error as? OCIError { throw error }
            throw OCIError(.io, "cannot write \(path): \(error)")
        }
    }

    /// `oci-layout`, `index.json`, then `blobs` and everything under it, sorted.
    static func entries(_ directory: String) throws -> [String] {
        var names = ["oci-layout", "index.json", "blobs"]
        let under = (FileManager.default.subpaths(atPath: directory + "/blobs") ?? []).sorted()
        names += under.map { "blobs/" + $0 }
        return names
    }

    /// One ustar header (preceded by a pax header when the name is too long).
    static func header(_ name: String, size: Int64, type: Character) -> Data {
        var data = Data()
        var shortName = name
        var records = Data()
        if name.utf8.count > 100 {
            records += paxRecord("path", name)
            shortName = String(decoding: name.utf8.suffix(100), as: UTF8.self)
        }
        if size > 0o77777777777 { records += paxRecord("size", "\(size)") }
        if !records.isEmpty {
            data += block(name: "PaxHeaders/entry", size: Int64(records.count), type: "x")
            data += records + Data(count: (512 - records.count % 512) % 512)
        }
        data += block(name: shortName, size: min(size, 0o77777777777), type: type)
        return data
    }

    /// `LEN path=NAME\n`, where LEN counts itself.
    static func paxRecord(_ key: String, _ value: String) -> Data {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while "\(length)".utf8.count + body.utf8.count != length { length += 1 }
        return Data("\(length)\(body)".utf8)
    }

    static func block(name: String, size: Int64, type: Character) -> Data {
        var bytes = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { bytes[offset + index] = byte }
        }
        func octal(_ value: Int64, at offset: Int, width: Int) {
            put(String(value, radix: 8).leftPadded(to: width - 1) , at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(type == "5" ? 0o755 : 0o644, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(0, at: 136, width: 12)
        put(String(type), at: 156, width: 1)
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        for index in 148..<156 { bytes[index] = 0x20 }
        let sum = bytes.reduce(0) { $0 + Int64($1) }
        octal(sum, at: 148, width: 7)
        bytes[154] = 0
        bytes[155] = 0x20
        return Data(bytes)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
