public import Multiformats

/// A dag-cbor block whose links cannot be read: `offset` is the byte where the problem was found.
public struct DagCBORError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Byte offset into the block.
    public var offset: Int
    /// What is wrong, in one line.
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "invalid dag-cbor block at byte \(offset): \(reason)" }

    /// The reason and where, for a message that names the block itself: every reader says
    /// "block CID is not valid dag-cbor: \(detail)" (`links(of:_:)`, paths on the CLI and the
    /// gateway).
    public var detail: String { "\(reason) at byte \(offset)" }
}

/// The links of a dag-cbor block (ipld/specs `codecs/dag-cbor/spec.md`, CBOR per RFC 8949).
///
/// A link is CBOR tag 42 around a byte string `0x00 ‖ binary CID`. The walker reads the item
/// structure once, without building values, and is strict where the structure is concerned:
/// exactly one top-level item and nothing after it; no truncated heads or payloads; no reserved
/// additional information (28–30); no indefinite lengths (nor a stray break); nesting at most
/// `maxDepth` arrays/maps (the walk is iterative, so this bounds memory, not the call stack);
/// map keys are text strings; no tag other than 42; simple values only false, true and null;
/// tag 42 around a byte string starting 0x00 followed by exactly one valid CID; no key twice in
/// one map (Kubo's decoder, go-ipld-prime, refuses a repeated key while it builds the map, so
/// Kubo neither walks nor exports such a block).
///
/// It does not check the rest of canonical form (shortest heads, key order, float width, NaN)
/// or that text is UTF-8: go-ipld-prime's default decoding accepts those, and they do not
/// change which links a block has.
public enum DagCBOR {
    /// Deepest nesting of arrays and maps accepted.
    public static let maxDepth = 1024

    /// Every link of the block, in the order they appear in its bytes.
    public static func links(in bytes: [UInt8]) throws(DagCBORError) -> [CID] {
        try bytes.withUnsafeBytes { raw in Result { () throws(DagCBORError) in try links(in: raw) } }.get()
    }

    /// Every link of the block, in the order they appear in its bytes.
    public static func links(in bytes: UnsafeRawBufferPointer) throws(DagCBORError) -> [CID] {
        var walker = Walker(bytes: bytes)
        return try walker.run()
    }

    private struct Walker {
        let bytes: UnsafeRawBufferPointer
        var position = 0
        var links: [CID] = []
        /// Open arrays and maps: items still to read in each (a map counts keys and values), and
        /// for a map where its keys start in `keys`.
        var open: [(remaining: UInt64, isMap: Bool, keyBase: Int)] = []
        /// The keys of the open maps, innermost last: where each key's head starts, and its
        /// bytes (a nested map's keys are dropped when it closes, before its parent's next key).
        var keys: [(head: Int, start: Int, count: Int)] = []

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        func fail(_ reason: String, at offset: Int) -> DagCBORError {
            DagCBORError(offset: offset, reason: reason)
        }

        /// Reads an item head: major type, argument, and where the head started.
        mutating func head() throws(DagCBORError) -> (major: UInt8, argument: UInt64, start: Int) {
            let start = position
            guard position < bytes.count else {
                throw fail(start == 0 ? "empty block" : "truncated: an item is missing", at: start)
            }
            let initial = bytes[position]
            position += 1
            let major = initial >> 5
            let info = initial & 0x1f
            let extra: Int
            switch info {
            case 0..<24: return (major, UInt64(info), start)
            case 24: extra = 1
            case 25: extra = 2
            case 26: extra = 4
            case 27: extra = 8
            case 28, 29, 30:
                throw fail("reserved additional information \(info) in initial byte 0x\(hex(initial))", at: start)
            default:
                if major == 7 { throw fail("unexpected break byte 0xff (indefinite lengths are not allowed in dag-cbor)", at: start) }
                throw fail("indefinite length (major type \(major)) is not allowed in dag-cbor", at: start)
            }
            guard bytes.count - position >= extra else {
                throw fail("truncated: head needs \(extra) more bytes, \(bytes.count - position) left", at: start)
            }
            var value: UInt64 = 0
            for k in 0..<extra { value = value << 8 | UInt64(bytes[position + k]) }
            position += extra
            return (major, value, start)
        }

        /// Skips `length` payload bytes of a string that started at `start`.
        mutating func skip(_ length: UInt64, kind: String, start: Int) throws(DagCBORError) {
            let left = bytes.count - position
            guard length <= UInt64(left) else {
                throw fail("truncated: \(kind) of \(length) bytes, \(left) left", at: start)
            }
            position += Int(length)
        }

        mutating func run() throws(DagCBORError) -> [CID] {
            repeat {
                try item()
            } while !open.isEmpty
            guard position == bytes.count else {
                throw fail("\(bytes.count - position) bytes after the top-level item", at: position)
            }
            return links
        }

        /// Reads one item; an array or map is opened (its items are read by later calls).
        mutating func item() throws(DagCBORError) {
            let atKey = open.last.map { $0.isMap && $0.remaining % 2 == 0 } ?? false
            let (major, argument, start) = try head()
            if atKey && major != 3 {
                throw fail("map key of major type \(major): dag-cbor map keys are text strings", at: start)
            }
            switch major {
            case 0, 1:
                break
            case 2:
                try skip(argument, kind: "byte string", start: start)
            case 3:
                let payload = position
                try skip(argument, kind: "text string", start: start)
                if atKey { keys.append((start, payload, Int(argument))) }
            case 4, 5:
                let isMap = major == 5
                let left = UInt64(bytes.count - position)
                // Every item takes at least one byte: a count beyond that is a truncation.
                guard argument <= left, !isMap || argument <= left / 2 else {
                    throw fail("truncated: \(isMap ? "map" : "array") of \(argument) \(isMap ? "entries" : "items"), \(left) bytes left", at: start)
                }
                if argument > 0 {
                    guard open.count < DagCBOR.maxDepth else {
                        throw fail("nesting deeper than \(DagCBOR.maxDepth) arrays/maps", at: start)
                    }
                    open.append((isMap ? argument * 2 : argument, isMap, keys.count))
                    return
                }
            case 6:
                guard argument == 42 else {
                    throw fail("tag \(argument) is not allowed in dag-cbor (only 42, a link)", at: start)
                }
                try link(tagStart: start)
            default: // 7
                let info = bytes[start] & 0x1f
                switch info {
                case 20, 21, 22, 25, 26, 27: break  // false, true, null, floats
                default:
                    throw fail("simple value \(argument) is not allowed in dag-cbor (only false, true, null and floats)", at: start)
                }
            }
            try finished()
        }

        /// The byte string after tag 42: `0x00 ‖ CID`.
        mutating func link(tagStart: Int) throws(DagCBORError) {
            let (major, length, start) = try head()
            guard major == 2 else {
                throw fail("tag 42 (link) must wrap a byte string, not major type \(major)", at: start)
            }
            let payload = position
            try skip(length, kind: "link byte string", start: start)
            guard length > 0, bytes[payload] == 0x00 else {
                throw fail("tag 42 (link) bytes must start with 0x00 (the identity multibase prefix)", at: start)
            }
            do {
                links.append(try CID(bytes: UnsafeRawBufferPointer(rebasing: bytes[(payload + 1)..<position])))
            } catch {
                throw fail("invalid CID in link: \(error)", at: payload + 1)
            }
        }

        /// One item of the innermost open container is done; closes those that are complete (a
        /// map's keys checked for repeats as it closes).
        mutating func finished() throws(DagCBORError) {
            while let last = open.indices.last {
                open[last].remaining -= 1
                guard open[last].remaining == 0 else { return }
                let closed = open.removeLast()
                if closed.isMap {
                    try checkDistinctKeys(from: closed.keyBase)
                    keys.removeSubrange(closed.keyBase...)
                }
            }
        }

        /// Throws for the later of two equal keys among `keys[base...]` (one map's keys).
        func checkDistinctKeys(from base: Int) throws(DagCBORError) {
            let count = keys.count - base
            guard count > 1 else { return }
            func key(_ k: Int) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: bytes[keys[k].start..<(keys[k].start + keys[k].count)])
            }
            func same(_ a: Int, _ b: Int) -> Bool { keys[a].count == keys[b].count && key(a).elementsEqual(key(b)) }
            func repeated(_ a: Int, _ b: Int) -> DagCBORError {
                let later = keys[a].head > keys[b].head ? a : b
                return fail("map key \"\(String(decoding: key(later), as: UTF8.self))\" appears twice in one map", at: keys[later].head)
            }
            if count <= 16 {
                for a in base..<keys.count {
                    for b in (a + 1)..<keys.count where same(a, b) { throw repeated(a, b) }
                }
                return
            }
            // Sorted by length, then bytes: equal keys end up side by side.
            let order = (base..<keys.count).sorted { a, b in
                if keys[a].count != keys[b].count { return keys[a].count < keys[b].count }
                return key(a).lexicographicallyPrecedes(key(b))
            }
            for (a, b) in zip(order, order.dropFirst()) where same(a, b) { throw repeated(a, b) }
        }
    }
}

private func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
}
