public import Multiformats

/// A dag-pb block that cannot be decoded: `offset` is the byte where the problem was found.
public struct DagPBError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Byte offset into the block.
    public var offset: Int
    /// What is wrong, in one line.
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "invalid dag-pb block at byte \(offset): \(reason)" }
}

/// One link of a dag-pb node (`PBLink` in ipld/specs `block-layer/codecs/dag-pb.md`).
///
/// `name` and `tsize` are optional in the format; Kubo's importer always writes both (an empty
/// name as `12 00`, a zero size as `18 00`), which `init(hash:name:tsize:)` does by default.
public struct PBLink: Hashable, Sendable {
    /// The target's CID (field 1, binary form).
    public var hash: CID
    /// The link name as raw bytes (field 2); nil means the field is absent.
    public var name: [UInt8]?
    /// The cumulative size of the target's DAG (field 3); nil means the field is absent.
    public var tsize: UInt64?

    public init(hash: CID, name: [UInt8]? = [], tsize: UInt64?) {
        self.hash = hash
        self.name = name
        self.tsize = tsize
    }

    /// A link with a UTF-8 name.
    public init(hash: CID, name: String, tsize: UInt64) {
        self.init(hash: hash, name: Array(name.utf8), tsize: tsize)
    }

    /// Bytes of the link message body (without the enclosing key and length).
    @inlinable
    public var encodedLength: Int {
        var n = Wire.bytesFieldSize(hash.encodedLength)
        if let name { n += Wire.bytesFieldSize(name.count) }
        if let tsize { n += Wire.varintFieldSize(tsize) }
        return n
    }

    /// Bytes of this link inside a node: key `0x12`, length, body.
    @inlinable
    public var encodedFieldLength: Int { Wire.bytesFieldSize(encodedLength) }

    /// Writes the field (key, length, body) at `pointer`; returns the bytes written.
    @inlinable
    func writeField(to pointer: UnsafeMutablePointer<UInt8>) -> Int {
        var p = pointer
        p[0] = 0x12
        p += 1
        p += Wire.writeVarint(UInt64(encodedLength), to: p)
        let cidLength = hash.encodedLength
        p[0] = 0x0A
        p += 1
        p += Wire.writeVarint(UInt64(cidLength), to: p)
        p += hash.encode(to: UnsafeMutableRawBufferPointer(start: p, count: cidLength))
        if let name {
            p[0] = 0x12
            p += 1
            p += Wire.writeVarint(UInt64(name.count), to: p)
            name.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { p.update(from: base, count: source.count) }
            }
            p += name.count
        }
        if let tsize {
            p[0] = 0x18
            p += 1
            p += Wire.writeVarint(tsize, to: p)
        }
        return p - pointer
    }
}

/// Byte-wise order of link names, absent names first (as empty): the order dag-pb requires.
@inlinable
func linkNameOrder(_ a: PBLink, _ b: PBLink) -> Bool {
    (a.name ?? []).lexicographicallyPrecedes(b.name ?? [])
}

/// A dag-pb node (`PBNode`): links, then optional opaque data.
///
/// Encoding is the canonical form Kubo writes (ipld/specs dag-pb.md, boxo `merkledag`,
/// go-codec-dagpb `marshal.go`): every link (field 2) first, stably sorted by name bytes, then
/// `Data` (field 1) if it is non-nil, even when empty. Decoding is strict: see
/// `init(decoding:requireSortedLinks:)`.
public struct PBNode: Hashable, Sendable, WireEncodable {
    public var links: [PBLink]
    /// `nil` = the Data field is absent; `[]` = present and empty (`0a 00`).
    public var data: [UInt8]?

    public init(links: [PBLink] = [], data: [UInt8]?) {
        self.links = links
        self.data = data
    }

    /// Whether the links are in dag-pb order (non-decreasing name bytes).
    public var linksAreSorted: Bool {
        guard links.count > 1 else { return true }
        for i in 1..<links.count where linkNameOrder(links[i], links[i - 1]) { return false }
        return true
    }

    /// Stable-sorts the links by name bytes (equal names keep their order), as boxo does on encode.
    public mutating func sortLinks() {
        guard !linksAreSorted else { return }
        let indexed = links.enumerated().sorted { a, b in
            if linkNameOrder(a.element, b.element) { return true }
            if linkNameOrder(b.element, a.element) { return false }
            return a.offset < b.offset
        }
        links = indexed.map(\.element)
    }

    /// The exact size of the encoded block.
    public var encodedLength: Int {
        var n = 0
        for link in links { n += link.encodedFieldLength }
        if let data { n += Wire.bytesFieldSize(data.count) }
        return n
    }

    /// Writes the canonical block to the start of `buffer` (at least `encodedLength` bytes) and
    /// returns the number of bytes written. Unsorted links are written in sorted order.
    public func encode(to buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard linksAreSorted else {
            var sorted = self
            sorted.sortLinks()
            return sorted.encode(to: buffer)
        }
        precondition(buffer.count >= encodedLength, "PBNode buffer too small")
        guard let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
        var p = base
        for link in links { p += link.writeField(to: p) }
        if let data {
            p[0] = 0x0A
            p += 1
            p += Wire.writeVarint(UInt64(data.count), to: p)
            data.withUnsafeBufferPointer { source in
                if let start = source.baseAddress { p.update(from: start, count: source.count) }
            }
            p += data.count
        }
        return p - base
    }

    // MARK: Decoding

    /// Decodes a dag-pb block strictly.
    ///
    /// Rejected, each with a `DagPBError` naming the byte offset: truncated fields or varints,
    /// non-minimal or over-long varints, lengths past the end, wrong wire types, field numbers
    /// outside the schema, `Data` before or between links (go-codec-dagpb and js-dag-pb refuse
    /// it too), a second `Data`, link fields out of order (Hash, Name, Tsize) or repeated, a
    /// link without `Hash`, a `Hash` that is not exactly one valid binary CID, and, when
    /// `requireSortedLinks` is true (the default), links whose names are not in non-decreasing
    /// byte order (dag-pb "Logical Format" constraints). Names are kept as bytes: UTF-8 is not
    /// enforced, because Kubo stores file names as the OS gives them.
    public init(decoding block: UnsafeRawBufferPointer, requireSortedLinks: Bool = true) throws(DagPBError) {
        do {
            self = try PBNode.decode(block, requireSortedLinks: requireSortedLinks)
        } catch {
            throw DagPBError(offset: error.offset, reason: error.reason)
        }
    }

    /// Decodes a dag-pb block strictly (see `init(decoding:requireSortedLinks:)`).
    public init(decoding block: some Collection<UInt8>, requireSortedLinks: Bool = true) throws(DagPBError) {
        let array = Array(block)
        let result = array.withUnsafeBytes { raw in
            Result { () throws(DagPBError) in try PBNode(decoding: raw, requireSortedLinks: requireSortedLinks) }
        }
        self = try result.get()
    }

    static func decode(_ block: UnsafeRawBufferPointer, requireSortedLinks: Bool) throws(WireError) -> PBNode {
        var reader = WireReader(block)
        var links: [PBLink] = []
        var data: [UInt8]? = nil
        while !reader.isAtEnd {
            let keyOffset = reader.position
            let (field, wireType) = try reader.readKey()
            switch field {
            case 1:
                guard wireType == Wire.lengthDelimited else {
                    throw reader.fail("Data (field 1) has wire type \(wireTypeName(wireType)), expected length-delimited (2)", at: keyOffset)
                }
                guard data == nil else { throw reader.fail("duplicate Data field", at: keyOffset) }
                data = Array(reader.slice(try reader.readLengthDelimited("Data")))
            case 2:
                guard wireType == Wire.lengthDelimited else {
                    throw reader.fail("link \(links.count) (field 2) has wire type \(wireTypeName(wireType)), expected length-delimited (2)", at: keyOffset)
                }
                guard data == nil else {
                    throw reader.fail("link \(links.count) comes after Data (links must precede Data)", at: keyOffset)
                }
                let range = try reader.readLengthDelimited("link \(links.count)")
                let link = try decodeLink(reader.slice(range), origin: range.lowerBound, index: links.count)
                if requireSortedLinks, let previous = links.last, linkNameOrder(link, previous) {
                    throw reader.fail("link \(links.count) is out of order: names must be sorted by bytes", at: keyOffset)
                }
                links.append(link)
            default:
                throw reader.fail("unknown PBNode field \(field) (wire type \(wireTypeName(wireType))); only Data (1) and Links (2) exist", at: keyOffset)
            }
        }
        return PBNode(links: links, data: data)
    }

    static func decodeLink(_ bytes: UnsafeRawBufferPointer, origin: Int, index: Int) throws(WireError) -> PBLink {
        var reader = WireReader(bytes, origin: origin)
        var hash: CID? = nil
        var name: [UInt8]? = nil
        var tsize: UInt64? = nil
        var lastField: UInt64 = 0
        while !reader.isAtEnd {
            let keyOffset = reader.position
            let (field, wireType) = try reader.readKey()
            guard field >= 1 && field <= 3 else {
                throw reader.fail("link \(index): unknown PBLink field \(field); only Hash (1), Name (2), Tsize (3) exist", at: keyOffset)
            }
            guard field > lastField else {
                let what = field == lastField ? "duplicate" : "out-of-order"
                throw reader.fail("link \(index): \(what) field \(field) (fields must appear once, in the order Hash, Name, Tsize)", at: keyOffset)
            }
            lastField = field
            let expected = field == 3 ? Wire.varint : Wire.lengthDelimited
            guard wireType == expected else {
                throw reader.fail("link \(index): field \(field) has wire type \(wireTypeName(wireType)), expected \(wireTypeName(expected))", at: keyOffset)
            }
            switch field {
            case 1:
                let range = try reader.readLengthDelimited("link \(index) Hash")
                let cidBytes = reader.slice(range)
                let decoded: (cid: CID, length: Int)
                do {
                    decoded = try CID.decode(prefixOf: cidBytes)
                } catch {
                    throw reader.fail("link \(index): Hash is not a valid CID: \(error.message)", at: range.lowerBound + (error.offset ?? 0))
                }
                guard decoded.length == cidBytes.count else {
                    throw reader.fail("link \(index): Hash has \(cidBytes.count - decoded.length) bytes after the CID", at: range.lowerBound + decoded.length)
                }
                hash = decoded.cid
            case 2:
                name = Array(reader.slice(try reader.readLengthDelimited("link \(index) Name")))
            default:
                tsize = try reader.readVarint("link \(index) Tsize")
            }
        }
        guard let hash else {
            throw WireError(offset: origin, reason: "link \(index) has no Hash")
        }
        return PBLink(hash: hash, name: name, tsize: tsize)
    }
}
