/// Limits that refuse a tar bomb (spec/oci.md §4).
public struct TarLimits: Hashable, Sendable {
    /// The largest entry content (default 1 TiB).
    public var maximumEntrySize: Int64 = 1 << 40
    /// The most path components in a name (default 512).
    public var maximumDepth = 512
    /// The longest name in bytes (default 16 KiB).
    public var maximumNameBytes = 16 << 10
    /// The largest pax or GNU long-name record (default 1 MiB).
    public var maximumExtendedHeader = 1 << 20
    /// Decompression bombs: a layer whose decompressed bytes pass `expansionFloor` (default
    /// 64 MiB) and exceed `maximumExpansion` (default 1000) times the compressed bytes read so
    /// far is refused.
    public var maximumExpansion: Int64 = 1000
    public var expansionFloor: Int64 = 64 << 20

    public init() {}
}

/// What a tar stream held.
public struct TarStatistics: Hashable, Sendable {
    /// Entries, every type (extended headers not counted).
    public var entries = 0
    /// Regular files and their content bytes.
    public var files = 0
    public var fileBytes: Int64 = 0
}

/// One entry of a tar stream as the scanner reports it.
struct TarEntry {
    var name: String
    var type: UInt8
    /// Content bytes (0 for the header-only types, whatever the size field says).
    var size: Int64
    /// Offset of the content in the stream.
    var contentOffset: Int64

    var isRegular: Bool { type == UInt8(ascii: "0") || type == 0 || type == UInt8(ascii: "7") }
}

/// A push tar reader (POSIX ustar, pax extended headers, GNU long names), fed any pieces of the
/// stream in order; constant memory (one header block and at most one extended header).
/// It reports entries and skips their content; the driver may skip content itself
/// (`pendingContent`) when it can seek.
struct TarScanner {
    let limits: TarLimits
    let name: String
    private(set) var statistics = TarStatistics()
    /// Stream bytes seen.
    private(set) var offset: Int64 = 0

    private enum State {
        case header
        /// Content and its padding to the next 512-byte block.
        case content(left: Int64)
        /// An extended header's body being collected.
        case extended(type: UInt8, remaining: Int, padding: Int)
        case ended
    }
    private var state = State.header
    private var block: [UInt8] = []
    private var extendedBody: [UInt8] = []
    /// From a pax `x` header or a GNU `L` entry: applies to the next entry.
    private var nextName: String?
    private var nextSize: Int64?

    init(name: String, limits: TarLimits = TarLimits()) {
        self.name = name
        self.limits = limits
        block.reserveCapacity(512)
    }

    /// Content bytes of the current entry the driver may skip (with `skip`) instead of feeding.
    var pendingContent: Int64 {
        if case .content(let left) = state { return left }
        return 0
    }

    /// Skips what `pendingContent` said.
    mutating func skipPendingContent() {
        offset += pendingContent
        if case .content = state { state = .header }
    }

    /// Feeds the next piece of the stream; `entry` is called for each header completed.
    /// Whether the end-of-archive block has been read (what follows is padding, never read).
    var hasEnded: Bool { if case .ended = state { return true } else { return false } }

    mutating func feed(_ bytes: UnsafeRawBufferPointer, entry: (TarEntry) throws(OCIError) -> Void = { _ in }) throws(OCIError) {
        var rest = bytes[...]
        while !rest.isEmpty {
            switch state {
            case .ended:
                offset += Int64(rest.count)
                return
            case .content(let left):
                let take = Int(min(Int64(rest.count), left))
                rest = rest.dropFirst(take)
                offset += Int64(take)
                state = left == Int64(take) ? .header : .content(left: left - Int64(take))
            case .extended(let type, let remaining, let padding):
                let take = min(rest.count, remaining + padding)
                let body = min(take, remaining)
                extendedBody.append(contentsOf: rest.prefix(body))
                rest = rest.dropFirst(take)
                offset += Int64(take)
                if take == remaining + padding {
                    state = .header
                    try applyExtended(type: type)
                } else {
                    state = .extended(type: type, remaining: remaining - body, padding: padding - (take - body))
                }
            case .header:
                let take = min(rest.count, 512 - block.count)
                block.append(contentsOf: rest.prefix(take))
                rest = rest.dropFirst(take)
                offset += Int64(take)
                if block.count == 512 {
                    try parseHeader(entry: entry)
                    block.removeAll(keepingCapacity: true)
                }
            }
        }
    }

    /// The stream ended: it must end between entries.
    func finish() throws(OCIError) {
        switch state {
        case .ended: return
        case .header where block.isEmpty && nextName == nil && nextSize == nil: return
        default: throw OCIError(.badTar, "\(name): truncated tar stream (ends inside an entry at byte \(offset))")
        }
    }

    private mutating func parseHeader(entry: (TarEntry) throws(OCIError) -> Void) throws(OCIError) {
        let headerOffset = offset - 512
        if block.allSatisfy({ $0 == 0 }) {
            state = .ended  // end-of-archive: what follows is padding
            return
        }
        guard checksumMatches() else { throw OCIError(.badTar, "\(name): bad tar header checksum at byte \(headerOffset)") }
        let type = block[156]
        let declared = try number(at: 124, length: 12, headerOffset: headerOffset)
        guard declared <= limits.maximumEntrySize else {
            throw OCIError(.badTar, "\(name): tar entry at byte \(headerOffset) claims \(declared) bytes (limit \(limits.maximumEntrySize))")
        }
        switch type {
        case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
            guard declared <= limits.maximumExtendedHeader else {
                throw OCIError(.badTar, "\(name): extended tar header at byte \(headerOffset) of \(declared) bytes (limit \(limits.maximumExtendedHeader))")
            }
            extendedBody.removeAll(keepingCapacity: true)
            let size = Int(declared)
            state = .extended(type: type, remaining: size, padding: (512 - size % 512) % 512)
            if size == 0 { state = .header; try applyExtended(type: type) }
            return
        default:
            break
        }
        var entryName = nextName ?? headerName()
        nextName = nil
        let size = nextSize ?? declared
        nextSize = nil
        // Go's archive/tar: these types have no content whatever the size field says.
        let headerOnly: Set<UInt8> = [UInt8(ascii: "1"), UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "4"), UInt8(ascii: "5"), UInt8(ascii: "6")]
        let content = headerOnly.contains(type) ? 0 : size
        guard content <= limits.maximumEntrySize else {
            throw OCIError(.badTar, "\(name): tar entry at byte \(headerOffset) claims \(content) bytes (limit \(limits.maximumEntrySize))")
        }
        try checkName(entryName, at: headerOffset)
        if entryName.hasPrefix("./") { entryName.removeFirst(2) }
        statistics.entries += 1
        let item = TarEntry(name: entryName, type: type, size: content, contentOffset: offset)
        if item.isRegular {
            statistics.files += 1
            statistics.fileBytes += content
        }
        try entry(item)
        if content > 0 { state = .content(left: content + (512 - content % 512) % 512) }
    }

    private func checkName(_ text: String, at headerOffset: Int64) throws(OCIError) {
        guard text.utf8.count <= limits.maximumNameBytes else {
            throw OCIError(.badTar, "\(name): tar entry name at byte \(headerOffset) is \(text.utf8.count) bytes long (limit \(limits.maximumNameBytes))")
        }
        let depth = text.utf8.split(separator: UInt8(ascii: "/")).count
        guard depth <= limits.maximumDepth else {
            throw OCIError(.badTar, "\(name): tar entry at byte \(headerOffset) is nested \(depth) levels deep (limit \(limits.maximumDepth))")
        }
    }

    private mutating func applyExtended(type: UInt8) throws(OCIError) {
        let body = extendedBody
        extendedBody.removeAll(keepingCapacity: true)
        switch type {
        case UInt8(ascii: "L"):
            nextName = String(decoding: body.prefix { $0 != 0 }, as: UTF8.self)
        case UInt8(ascii: "x"):
            for (key, value) in try paxRecords(body) {
                switch key {
                case "path": nextName = value
                case "size":
                    guard let size = Int64(value), size >= 0 else {
                        throw OCIError(.badTar, "\(name): pax size '\(value)' is not a number")
                    }
                    nextSize = size
                default: break
                }
            }
        default:
            break  // global pax headers and GNU long link names change nothing Cairn reports
        }
    }

    /// `LENGTH KEY=VALUE\n` records (POSIX pax).
    private func paxRecords(_ body: [UInt8]) throws(OCIError) -> [(String, String)] {
        var records: [(String, String)] = []
        var index = 0
        while index < body.count {
            guard let space = body[index...].firstIndex(of: UInt8(ascii: " ")),
                  let length = Int(String(decoding: body[index..<space], as: UTF8.self)), length > space - index,
                  length <= body.count - index, body[index + length - 1] == UInt8(ascii: "\n"),
                  let equals = body[(space + 1)..<(index + length)].firstIndex(of: UInt8(ascii: "="))
            else {
                if body[index...].allSatisfy({ $0 == 0 }) { break }
                throw OCIError(.badTar, "\(name): malformed pax record at byte \(index) of an extended header")
            }
            let key = String(decoding: body[(space + 1)..<equals], as: UTF8.self)
            let value = String(decoding: body[(equals + 1)..<(index + length - 1)], as: UTF8.self)
            records.append((key, value))
            index += length
        }
        return records
    }

    private func headerName() -> String {
        let name = field(0, 100)
        let isUstar = block[257..<262].elementsEqual("ustar".utf8)
        let prefix = isUstar ? field(345, 155) : []
        let bytes = prefix.isEmpty ? name : prefix + [UInt8(ascii: "/")] + name
        return String(decoding: bytes, as: UTF8.self)
    }

    private func field(_ start: Int, _ length: Int) -> [UInt8] {
        Array(block[start..<(start + length)].prefix { $0 != 0 })
    }

    private func checksumMatches() -> Bool {
        guard let stored = octal(block[148..<156]) else { return false }
        var unsigned: Int64 = 0, signed: Int64 = 0
        for (index, byte) in block.enumerated() {
            let value = (148..<156).contains(index) ? UInt8(ascii: " ") : byte
            unsigned += Int64(value)
            signed += Int64(Int8(bitPattern: value))
        }
        return stored == unsigned || stored == signed
    }

    /// A numeric field: octal (NUL or space terminated) or GNU base-256 (high bit set).
    private func number(at start: Int, length: Int, headerOffset: Int64) throws(OCIError) -> Int64 {
        let bytes = block[start..<(start + length)]
        if let first = bytes.first, first & 0x80 != 0 {
            guard first & 0x40 == 0 else { throw OCIError(.badTar, "\(name): negative size in tar header at byte \(headerOffset)") }
            var value: Int64 = Int64(first & 0x3f)
            for byte in bytes.dropFirst() {
                guard value <= (Int64.max >> 8) else {
                    throw OCIError(.badTar, "\(name): tar entry at byte \(headerOffset) claims a size beyond 2^63 bytes")
                }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        guard let value = octal(bytes) else { throw OCIError(.badTar, "\(name): malformed size in tar header at byte \(headerOffset)") }
        return value
    }

    private func octal(_ bytes: ArraySlice<UInt8>) -> Int64? {
        var value: Int64 = 0, digits = 0
        for byte in bytes {
            if byte == 0 || byte == UInt8(ascii: " ") {
                if digits > 0 { break } else { continue }
            }
            guard (48...55).contains(byte) else { return nil }
            value = value * 8 + Int64(byte - 48)
            digits += 1
        }
        return value
    }
}
