import CairnSystem
import CairnTestSupport
import Dispatch
import Foundation
import Chunking
import Testing


/// Cut points must not depend on how the input arrives: random read sizes (1 byte … megabytes)
/// from memory, from a file and from a pipe all give the boundary lists of `chunks/`.
@Suite struct StreamingTests {
    static let specs = [
        "size-262144", "size-1000", "rabin", "rabin-16384-65536-131072", "buzhash", "fastcdc-65536-262144-1048576",
        "fastcdc-16384-65536-262144-2", "fastcdc-262144-1048576-4194304-0",
    ]

    /// The boundary list of `chunks/INPUT.SPEC.txt`. The shared vectors keep size-1000 lists only
    /// for inputs up to 1048577 bytes; for larger ones the list is written from boxo's size
    /// splitter rule (consecutive 1000-byte chunks, the last one shorter), not by the chunker under
    /// test. Any other missing list is an error, never a comparison of the code with itself.
    static func expected(_ input: String, _ spec: String) throws -> String {
        let path = "chunks/\(input).\(spec).txt"
        if spec == "size-1000", !FileManager.default.fileExists(atPath: Vectors.directory.appendingPathComponent(path).path) {
            let count = InputCache.input(input).count
            return stride(from: 0, to: count, by: 1000).map { "\($0) \(min(1000, count - $0))\n" }.joined()
        }
        return try Vectors.text(path)
    }

    @Test(arguments: specs)
    func randomReadSizesFromMemory(_ spec: String) throws {
        let input = InputCache.input("sm2_5242880")
        let chunker = try ChunkerSpec(parsing: spec).makeChunker()
        for (seed, largest) in [(UInt64(1), 1 << 22), (2, 4096), (3, 1 << 20)] {
            var source = RandomlySplitSource(BufferSource(input), seed: seed, largest: largest)
            // Small block sizes force many refills and compactions.
            let got = try streamedBoundaries(chunker, from: &source, blockSize: 1 << 16)
            #expect(listText(got) == (try Self.expected("sm2_5242880", spec)), "\(spec), reads ≤ \(largest)")
        }
    }

    @Test(arguments: specs)
    func oneByteReads(_ spec: String) throws {
        let input = InputCache.input("sm1_1048577")
        var source = RandomlySplitSource(BufferSource(input), seed: 1, largest: 1)
        let got = try streamedBoundaries(try ChunkerSpec(parsing: spec).makeChunker(), from: &source, blockSize: 1 << 16)
        #expect(listText(got) == (try Self.expected("sm1_1048577", spec)), "\(spec), 1-byte reads")
    }

    @Test func randomReadSizesFromFile() throws {
        let input = InputCache.input("sm1_5242880")
        let file = try TemporaryFile(input)
        defer { file.remove() }
        for spec in Self.specs {
            let fd = open(file.path, O_RDONLY)
            try #require(fd >= 0)
            defer { close(fd) }
            var source = RandomlySplitSource(FileDescriptorSource(fileDescriptor: fd), seed: 7, largest: 3 << 20)
            let got = try streamedBoundaries(try ChunkerSpec(parsing: spec).makeChunker(), from: &source)
            #expect(listText(got) == (try Self.expected("sm1_5242880", spec)), "\(spec) from a file")
        }
    }

    @Test func randomWriteSizesThroughAPipe() throws {
        let input = InputCache.input("sm1_5242880")
        for spec in ["rabin", "buzhash", "fastcdc-16384-65536-262144-2", "size-262144"] {
            var fds: [Int32] = [0, 0]
            try #require(pipe(&fds) == 0)
            let (readEnd, writeEnd) = (fds[0], fds[1])
            // The writer sends pieces of random size (1 byte … 1 MiB) from another thread.
            let writer = DispatchGroup()
            DispatchQueue.global().async(group: writer) {
                var random = SplitMix64(seed: 99)
                input.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        let bits = Int(random.next() % 21)
                        let size = min(raw.count - offset, Int(random.next() % (UInt64(1) << UInt64(bits))) + 1)
                        let n = write(writeEnd, raw.baseAddress! + offset, size)
                        if n <= 0 { break }
                        offset += n
                    }
                }
                close(writeEnd)
            }
            var source = RandomlySplitSource(FileDescriptorSource(fileDescriptor: readEnd), seed: 5, largest: 2 << 20)
            let got = try streamedBoundaries(try ChunkerSpec(parsing: spec).makeChunker(), from: &source)
            writer.wait()
            close(readEnd)
            #expect(listText(got) == (try Self.expected("sm1_5242880", spec)), "\(spec) through a pipe")
        }
    }

    @Test func bigInputStreamsLikeInMemory() throws {
        // sm7_20000000 through the reader with odd read sizes, against the vector's count and sha256.
        let input = InputCache.input("sm7_20000000")
        let rows = try Vectors.tsv("chunks.tsv").filter { $0["input"] == "sm7_20000000" }
        #expect(rows.count == 9)
        for row in rows {
            var source = RandomlySplitSource(BufferSource(input), seed: 3, largest: 5 << 20)
            let got = try streamedBoundaries(try ChunkerSpec(parsing: row["spec"]!).makeChunker(), from: &source)
            #expect(got.count == Int(row["count"]!))
            #expect(TestSHA256.hex(listText(got).utf8) == row["sha256_of_list"], "\(row["spec"]!)")
        }
    }

    @Test func sequenceOfBuffersSource() throws {
        let input = InputCache.input("sm2_1048577")
        var pieces: [[UInt8]] = []
        var random = SplitMix64(seed: 17)
        var offset = 0
        while offset < input.count {
            let size = min(input.count - offset, Int(random.next() % 70_000))  // includes empty pieces
            pieces.append(Array(input[offset..<(offset + size)]))
            offset += size
        }
        for spec in ["rabin-16384-65536-131072", "buzhash", "fastcdc-16384-65536-262144-2"] {
            var source = BufferSequenceSource(pieces)
            let got = try streamedBoundaries(try ChunkerSpec(parsing: spec).makeChunker(), from: &source)
            #expect(listText(got) == (try Self.expected("sm2_1048577", spec)), "\(spec) from buffers")
        }
    }

    @Test func chunkBytesAreTheInputBytes() throws {
        // The borrowed slices handed to the body are the input's bytes at the reported offsets.
        let input = InputCache.input("sm1_1048577")
        var source = RandomlySplitSource(BufferSource(input), seed: 4, largest: 100_000)
        let reader = ChunkReader(finder: try ChunkerSpec(parsing: "rabin-16384-65536-131072").makeChunker(), blockSize: 1 << 17)
        var mismatches = 0
        var total = 0
        try reader.forEachChunk(from: &source) { offset, chunk in
            if !chunk.elementsEqual(input[offset..<(offset + chunk.count)]) { mismatches += 1 }
            total += chunk.count
        }
        #expect(mismatches == 0)
        #expect(total == input.count)
    }

    @Test func cancellationStopsTheReader() throws {
        let input = InputCache.input("sm1_5242880")
        let token = CancellationToken()
        token.cancel()
        let reader = ChunkReader(finder: Chunker(.kuboDefault), blockSize: 1 << 16, cancellation: token)
        var source = BufferSource(input)
        var chunks = 0
        #expect(throws: CancellationError.self) {
            try reader.forEachChunk(from: &source) { _, _ in chunks += 1 }
        }
        #expect(chunks == 0)
    }

    @Test func cancelledTaskStopsTheReader() async throws {
        let input = InputCache.input("sm1_5242880")
        let task = Task {
            // Wait until cancelled, then read: the first refill must throw.
            while !Task.isCancelled { await Task.yield() }
            let reader = ChunkReader(finder: Chunker(.buzhash), blockSize: 1 << 16)
            var source = BufferSource(input)
            return try reader.forEachChunk(from: &source) { _, _ in }
        }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func readErrorsAreReported() {
        var source = FileDescriptorSource(fileDescriptor: -1)
        let reader = ChunkReader(finder: Chunker(.kuboDefault))
        #expect(throws: ChunkingError.readFailed(errno: EBADF)) {
            try reader.forEachChunk(from: &source) { _, _ in }
        }
        #expect(ChunkingError.readFailed(errno: EBADF).description.contains("errno \(EBADF)"))
    }
}
