import CairnTestSupport
import Foundation
import Testing
@testable import OCI

/// The streaming tar reader and the decompressors against GNU tar, gzip and zstd.
@Suite struct TarAndCompressionTests {
    /// A tree with a long name and a deep path, archived by GNU tar in each format.
    private static func archive(format: String) throws -> [UInt8] {
        let directory = try makeTemporaryDirectory("tar-\(format)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let long = String(repeating: "long-name-", count: 9) + ".txt"
        let deep = (0..<30).map { "d\($0)" }.joined(separator: "/")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("tree/" + deep), withIntermediateDirectories: true)
        try Data(repeating: 65, count: 1000).write(to: directory.appendingPathComponent("tree/" + long))
        try Data(repeating: 66, count: 513).write(to: directory.appendingPathComponent("tree/" + deep + "/file"))
        try Data().write(to: directory.appendingPathComponent("tree/empty"))
        let out = directory.appendingPathComponent("out.tar")
        try Tool.must("tar", ["--format=\(format)", "-C", directory.path, "-cf", out.path, "tree"])
        return [UInt8](try Data(contentsOf: out))
    }

    private static func scan(_ bytes: [UInt8], limits: TarLimits = TarLimits(), piece: Int = 777) throws -> (TarStatistics, [String]) {
        var scanner = TarScanner(name: "test", limits: limits)
        var names: [String] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + piece)
            try bytes[start..<end].withUnsafeBytes { buffer in
                try scanner.feed(buffer) { names.append($0.name) }
            }
            start = end
        }
        try scanner.finish()
        return (scanner.statistics, names)
    }

    @Test(arguments: ["gnu", "pax", "ustar"])
    func readsWhatGNUTarWrites(format: String) throws {
        let bytes = try Self.archive(format: format)
        let (statistics, names) = try Self.scan(bytes)
        // 31 directories (tree, d0…d29) and 3 files; the deep path is past ustar's 100-byte name.
        #expect(statistics.files == 3)
        #expect(statistics.fileBytes == 1513)
        #expect(statistics.entries == 3 + 31)
        #expect(names.contains("tree/" + String(repeating: "long-name-", count: 9) + ".txt"))
        #expect(names.contains("tree/" + (0..<30).map { "d\($0)" }.joined(separator: "/") + "/file"))
    }

    @Test func truncatedTarIsRefused() throws {
        let bytes = try Self.archive(format: "pax")
        // Cut inside the first file's content.
        #expect(throws: OCIError.self) { try Self.scan(Array(bytes.prefix(2000))) }
        do {
            _ = try Self.scan(Array(bytes.prefix(2000)))
        } catch let error as OCIError {
            #expect(error.code == .badTar)
            #expect(error.message.contains("truncated tar"))
        }
    }

    /// One ustar header for `name` with `size`, its checksum filled in.
    static func header(name: String, size: [UInt8]? = nil, octalSize: Int = 0, type: UInt8 = UInt8(ascii: "0")) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        for (index, byte) in name.utf8.prefix(100).enumerated() { block[index] = byte }
        for (index, byte) in "0000644\0".utf8.enumerated() { block[100 + index] = byte }
        let sizeField = size ?? Array(String(format: "%011o\0", octalSize).utf8)
        for (index, byte) in sizeField.enumerated() { block[124 + index] = byte }
        for (index, byte) in "14524770400\0".utf8.enumerated() { block[136 + index] = byte }
        block[156] = type
        for (index, byte) in "ustar\000".utf8.enumerated() { block[257 + index] = byte }
        for index in 148..<156 { block[index] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + Int($1) }
        for (index, byte) in String(format: "%06o\0 ", sum).utf8.enumerated() { block[148 + index] = byte }
        return block
    }

    /// A tar whose one entry claims 2^62 bytes (GNU base-256: 0x80, then the value).
    static func absurdSizeTar() -> [UInt8] {
        var size = [UInt8](repeating: 0, count: 12)
        size[0] = 0x80
        size[4] = 0x40
        return header(name: "bomb", size: size) + [UInt8](repeating: 0, count: 4096)
    }

    /// A tar whose one entry's pax path is `depth` components deep.
    static func deepTar(depth: Int) -> [UInt8] {
        let record = "path=\(Array(repeating: "d", count: depth).joined(separator: "/"))\n"
        var length = record.utf8.count + 1
        length = record.utf8.count + String(length).count + 1
        let body = Array("\(length) \(record)".utf8)
        var tar = header(name: "PaxHeader", octalSize: body.count, type: UInt8(ascii: "x")) + body
        tar += [UInt8](repeating: 0, count: (512 - body.count % 512) % 512)
        return tar + header(name: "x") + [UInt8](repeating: 0, count: 1024)
    }

    @Test func absurdSizeIsRefused() throws {
        let bomb = Self.absurdSizeTar()
        do {
            _ = try Self.scan(bomb)
            Issue.record("a 2^62-byte entry was accepted")
        } catch let error as OCIError {
            #expect(error.code == .badTar)
            #expect(error.message.contains("claims 4611686018427387904 bytes"))
        }
    }

    @Test func deepNestingIsRefused() throws {
        let bytes = Self.deepTar(depth: 600)
        do {
            _ = try Self.scan(bytes)
            Issue.record("a 600-level path was accepted")
        } catch let error as OCIError {
            #expect(error.code == .badTar)
            #expect(error.message.contains("nested 600 levels deep"))
        }
    }

    /// A pax record whose length is Int64.max (after a well-formed first record) is a malformed
    /// record, not an overflow of the record's end (a review found that trap).
    @Test func paxRecordLengthNearIntMaxIsRefused() throws {
        let body = Array("6 a=b\n9223372036854775807 k=v\n".utf8)
        var tar = Self.header(name: "PaxHeader", octalSize: body.count, type: UInt8(ascii: "x")) + body
        tar += [UInt8](repeating: 0, count: (512 - body.count % 512) % 512)
        tar += Self.header(name: "x") + [UInt8](repeating: 0, count: 1024)
        do {
            _ = try Self.scan(tar)
            Issue.record("a pax record of Int64.max bytes was accepted")
        } catch let error as OCIError {
            #expect(error.code == .badTar)
            #expect(error.message.contains("malformed pax record at byte 6"), "\(error.message)")
        }
    }

    @Test func badChecksumIsRefused() throws {
        var block = Self.header(name: "file")
        block[0] = UInt8(ascii: "g")  // checksum no longer matches
        #expect(throws: OCIError(.badTar, "test: bad tar header checksum at byte 0")) { try Self.scan(block + [UInt8](repeating: 0, count: 1024)) }
    }

    private static func decode(_ decoder: StreamDecoder, _ bytes: [UInt8], piece: Int = 1000) throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var start = 0
        while true {
            let end = min(bytes.count, start + piece)
            let (consumed, produced) = try bytes[start..<end].withUnsafeBytes { input in
                try buffer.withUnsafeMutableBytes { try decoder.step(input, $0) }
            }
            start += consumed
            out += buffer.prefix(produced)
            if produced == 0 && consumed == 0 && start == bytes.count { break }
        }
        try decoder.finish()
        return out
    }

    @Test func gzipAndZstdRoundTrip() throws {
        let data = SplitMix64.bytes(seed: 3, count: 300_000) + [UInt8](repeating: 7, count: 200_000)
        #expect(try Self.decode(try GzipDecoder(name: "g"), try Compress.gzip(data)) == data)
        #expect(try Self.decode(try ZstdDecoder(name: "z"), try Compress.zstd(data)) == data)
        // Two gzip members, as eStargz writes them.
        let halves = try Compress.gzip(Array(data.prefix(1000))) + (try Compress.gzip(Array(data.dropFirst(1000))))
        #expect(try Self.decode(try GzipDecoder(name: "g"), halves) == data)
    }

    /// CRC-32 as RFC 1952 §8 defines it (bitwise, reflected polynomial 0xEDB88320).
    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// A member whose header carries every optional field of RFC 1952 §2.3.1 (FEXTRA, FNAME,
    /// FCOMMENT, FHCRC), around the deflate data of `gzip -n`; GNU gzip reads it back.
    @Test(arguments: [1, 7, 1000])
    func gzipHeaderFieldsAreRead(piece: Int) throws {
        let data = SplitMix64.bytes(seed: 5, count: 20_000) + [UInt8](repeating: 9, count: 20_000)
        let plain = try Compress.gzip(data)
        var header: [UInt8] = [0x1f, 0x8b, 8, 2 | 4 | 8 | 16, 1, 2, 3, 4, 0, 3]
        header += [5, 0] + [UInt8]("ab\u{1}\u{0}z".utf8) + [UInt8]("name.tar".utf8) + [0] + [UInt8]("a comment".utf8) + [0]
        let crc = Self.crc32(header)
        header += [UInt8(crc & 0xff), UInt8(crc >> 8 & 0xff)]
        let member = header + plain.dropFirst(10)
        #expect(try Compress.gunzip(member) == data)
        for checkCRC in [true, false] {
            #expect(try Self.decode(try GzipDecoder(name: "g", checkCRC: checkCRC), member, piece: piece) == data)
            #expect(try Self.decode(try GzipDecoder(name: "g", checkCRC: checkCRC), member + plain, piece: piece) == data + data)
        }
        var badHeader = member
        badHeader[header.count - 1] ^= 1
        #expect(throws: OCIError(.badCompression, "g: damaged gzip stream (header crc mismatch)")) {
            try Self.decode(try GzipDecoder(name: "g", checkCRC: false), badHeader, piece: piece)
        }
    }

    /// The trailer (RFC 1952 §2.3.1): a wrong CRC-32 is refused when it is checked and ignored
    /// when the output's digest is (`checkCRC: false`); a wrong ISIZE is refused either way;
    /// bytes after a member that are not a member are refused.
    @Test func gzipTrailerIsChecked() throws {
        let data = SplitMix64.bytes(seed: 6, count: 50_000)
        let gzip = try Compress.gzip(data)
        var badCRC = gzip
        badCRC[gzip.count - 8] ^= 0x40
        #expect(throws: OCIError(.badCompression, "g: damaged gzip stream (incorrect data check)")) {
            try Self.decode(try GzipDecoder(name: "g"), badCRC)
        }
        #expect(try Self.decode(try GzipDecoder(name: "g", checkCRC: false), badCRC) == data)
        var badSize = gzip
        badSize[gzip.count - 4] ^= 1
        for checkCRC in [true, false] {
            #expect(throws: OCIError(.badCompression, "g: damaged gzip stream (incorrect length check)")) {
                try Self.decode(try GzipDecoder(name: "g", checkCRC: checkCRC), badSize)
            }
            #expect(throws: OCIError(.badCompression, "g: damaged gzip stream (incorrect header check)")) {
                try Self.decode(try GzipDecoder(name: "g", checkCRC: checkCRC), gzip + [0, 0, 0, 0])
            }
            #expect(throws: OCIError(.badCompression, "g: truncated gzip stream")) {
                try Self.decode(try GzipDecoder(name: "g", checkCRC: checkCRC), Array(gzip.dropLast(3)))
            }
            #expect(throws: OCIError(.badCompression, "g: truncated gzip stream")) {
                try Self.decode(try GzipDecoder(name: "g", checkCRC: checkCRC), Array(gzip.prefix(5)))
            }
        }
    }

    @Test func truncatedStreamsAreRefused() throws {
        let data = SplitMix64.bytes(seed: 4, count: 100_000)
        let gzip = try Compress.gzip(data), zstd = try Compress.zstd(data)
        #expect(throws: OCIError(.badCompression, "g: truncated gzip stream")) {
            try Self.decode(try GzipDecoder(name: "g"), Array(gzip.dropLast(10)))
        }
        #expect(throws: OCIError(.badCompression, "z: truncated zstd stream")) {
            try Self.decode(try ZstdDecoder(name: "z"), Array(zstd.dropLast(10)))
        }
        #expect(throws: OCIError(.badCompression, "g: truncated gzip stream")) { try Self.decode(try GzipDecoder(name: "g"), []) }
    }
}

/// The decompression-bomb limit (spec/oci.md §3): a layer of zeros, which gzip and zstd shrink
/// by far more than 100×, is refused under a limit of 100× past a 1 MiB floor; the same
/// layout passes under the default floor (64 MiB), and an ordinary layer passes either way.
@Suite struct DecompressionLimitTests {
    @Test(arguments: ["gzip", "zstd"])
    func zerosAreABombUnderATightLimit(tool: String) throws {
        let fixtures = try Fixtures.get()
        let copy = try LayoutCopy(of: fixtures.v1, label: "bomb-\(tool)")
        defer { copy.remove() }
        let directory = try makeTemporaryDirectory("bomb")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(count: 4 << 20).write(to: directory.appendingPathComponent("zeros"))
        let tarFile = directory.appendingPathComponent("zeros.tar")
        try Tool.must("tar", ["-C", directory.path, "-cf", tarFile.path, "zeros"])
        let tar = [UInt8](try Data(contentsOf: tarFile))
        let compressed = tool == "gzip" ? try Compress.gzip(tar) : try Compress.zstd(tar)
        try copy.replaceLayer(compressed, diffID: LayoutCopy.sha256(tar))
        try copy.editManifest { manifest in
            var layers = manifest["layers"] as! [[String: Any]]
            layers[0]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+\(tool)"
            manifest["layers"] = layers
        }
        var tight = OCIVerifier()
        tight.limits.maximumExpansion = 100
        tight.limits.expansionFloor = 1 << 20
        let refused = try tight.verify(try OCILayout(path: copy.root.path), stopAtFirst: false)
        #expect(refused.issues.count == 1)
        #expect(refused.issues.first?.code == .badCompression)
        #expect(refused.issues.first?.message.contains("refused as a decompression bomb") == true)
        #expect(try OCIVerifier().verify(try OCILayout(path: copy.root.path), stopAtFirst: false).passed)
        #expect(try tight.verify(try OCILayout(path: fixtures.v1.path), stopAtFirst: false).passed)
    }
}
