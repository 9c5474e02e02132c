import Chunking
import Hashing
import CairnSystem
import Foundation

/// What reading a blob found.
public struct BlobCheck: Hashable, Sendable {
    /// The blob's digest as computed (the declared one's algorithm, else sha256).
    public var digest: OCIDigest
    public var size: Int64
    /// Layers: the sha256 of the uncompressed tar, and what the tar held.
    public var diffID: OCIDigest?
    public var tar: TarStatistics?
}

/// Reads one blob as a stream and verifies it on the way (spec/oci.md §3): its size and
/// digest against the descriptor, and for a layer the digest of the uncompressed tar against
/// the config's diff_ids while a tar scanner walks it (limits against tar bombs). It yields
/// the blob's bytes as stored, or with `uncompressed` the layer's tar. Nothing is held but
/// two buffers; the checks end with the last byte: the final `read` returns 0 only if every
/// one passed, else it throws.
final class BlobReader {
    enum Output { case stored, uncompressed }

    let blob: OCIBlob
    let name: String
    private var region: RegionReader
    private let output: Output
    private var storedHasher: StreamingHasher
    private let storedAlgorithm: OCIDigest.Algorithm
    private var storedCount: Int64 = 0
    /// Layers: the decompressor (nil for an uncompressed tar), the tar's hasher and scanner.
    /// An uncompressed layer whose diff_id has the blob digest's algorithm has no tar hasher:
    /// the tar is the blob, its digest the blob's (`tarIsStored`).
    private let decoder: StreamDecoder?
    private var tarHasher: StreamingHasher?
    private let tarAlgorithm: OCIDigest.Algorithm
    private let tarIsStored: Bool
    /// The blob's digest and the tar's through one two-lane SHA-256 instead of `storedHasher`
    /// and `tarHasher` (`pairDigests`).
    private var pair: SHA256Pair?
    private var scanner: TarScanner?
    /// Compressed bytes read but not yet decompressed (`uncompressed` output).
    private let input: UnsafeMutableRawBufferPointer
    private var inputStart = 0, inputEnd = 0
    private var storedEnded = false
    /// The decoder's buffered output was already flushed.
    private var decoderDrained = false
    private(set) var check: BlobCheck?
    private let limits: TarLimits
    /// Decompressed bytes so far (the decompression-bomb limit).
    private var expanded: Int64 = 0

    /// `checkLayer` false (stored output only): a layer is only sized and digested like any
    /// other blob — not decompressed, its diff_id and tar not checked (`oci add
    /// --verify-diff-ids=false`, spec/oci.md §5).
    init(blob: OCIBlob, container: BlobContainer, output: Output = .stored, limits: TarLimits = TarLimits(),
         checkLayer: Bool = true) throws(OCIError) {
        self.blob = blob
        self.name = "\(container.path): \(blob.role.rawValue) \(blob.label)"
        do {
            region = try container.open(blob.path)
        } catch where error.code == .missingBlob {
            throw OCIError(.missingBlob, "\(name) is missing (no \(blob.path))")
        }
        self.output = blob.role == .layer ? output : .stored
        self.limits = limits
        storedAlgorithm = blob.digest?.algorithm ?? .sha256
        storedHasher = storedAlgorithm.hashAlgorithm.makeHasher()
        let isLayer = blob.role == .layer && (checkLayer || output == .uncompressed)
        let compression = blob.compression ?? Compression.none
        // A layer with a diff_id has every uncompressed byte checked by its digest: gzip's CRC-32
        // adds nothing then and is skipped (spec/oci.md §3).
        decoder = isLayer ? try StreamDecoders.make(compression, name: name, outputDigested: !blob.diffIDs.isEmpty) : nil
        tarAlgorithm = blob.diffIDs.first?.algorithm ?? .sha256
        tarIsStored = isLayer && decoder == nil && tarAlgorithm == storedAlgorithm
        if isLayer {
            if !tarIsStored { tarHasher = tarAlgorithm.hashAlgorithm.makeHasher() }
            scanner = TarScanner(name: "\(name) (uncompressed tar)", limits: limits)
        }
        input = .allocate(byteCount: decoder == nil ? 0 : 1 << 20, alignment: 64)
        if let size = blob.size, size != region.remaining {
            throw OCIError(.mismatch, "\(name): size \(region.remaining), expected \(size)")
        }
    }

    deinit {
        input.deallocate()
    }

    /// Stored output: the first decompression or tar failure met; from then on the stored
    /// bytes are only hashed (a wrong size or digest, the cause, is reported first).
    private var streamFailure: OCIError?

    /// Stored output: the checks of the next stored bytes, in order (digest, decompression, tar).
    func checkStored(_ bytes: UnsafeRawBufferPointer) {
        hashStored(bytes)
        checkStream(bytes)
    }

    /// Whether the stored bytes are more than digested: a layer's stream or tar is checked.
    var checksStream: Bool { decoder != nil || scanner != nil }

    /// The digest part of `checkStored` (it may run on one thread while `checkStream` runs on
    /// another over the same bytes: they share no state).
    func hashStored(_ bytes: UnsafeRawBufferPointer) {
        if let pair { pair.update(first: bytes, second: UnsafeRawBufferPointer(start: nil, count: 0)) } else { storedHasher.update(bytes) }
    }

    /// Whether pairing is allowed (`CAIRN_OCI_PAIRED_DIGESTS=0` turns it off: the digest and
    /// the stream checks then run on two threads, as for other algorithms or CPUs).
    static let pairingAllowed = ProcessInfo.processInfo.environment["CAIRN_OCI_PAIRED_DIGESTS"] != "0"

    /// Before the first byte, for a compressed layer read as stored whose digest and diff_id
    /// are both SHA-256, on a CPU with the two-lane SHA-NI kernel: from now on both digests go
    /// through one `SHA256Pair`, and `decompressForPair` and `hashPair` do all of `checkStored`
    /// (spec/oci.md §5). False: nothing changed.
    func pairDigests() -> Bool {
        guard Self.pairingAllowed, pair == nil, storedCount == 0, output == .stored, decoder != nil, tarHasher != nil,
              storedAlgorithm == .sha256, tarAlgorithm == .sha256, SHA256Pair.isAccelerated else { return false }
        pair = SHA256Pair()
        return true
    }

    /// Once `pairDigests` said yes, the decompressing half of the checks (on one thread of
    /// `MappedBlobImport`): decompresses and scans the stored bytes at `offset`, and hands each
    /// piece of the tar to `ring` with the range of stored bytes (offsets into the blob) to hash
    /// beside it, as many as the piece is long; stored bytes of this step left over go alone,
    /// with an empty piece. `hashPair`, on the ring's consumer thread, hashes them. (Measured:
    /// the same work on one thread costs the same CPU time but leaves that thread the longest
    /// of the process.)
    func decompressForPair(_ bytes: UnsafeRawBufferPointer, at offset: Int, ring: Overlap) {
        guard let decoder else { return }
        storedCount += Int64(bytes.count)
        var next = offset
        let end = offset + bytes.count
        if streamFailure == nil {
            do throws(OCIError) {
                try decompress(bytes, with: decoder, into: { ring.acquire() }, sink: { slot, produced throws(OCIError) in
                    var failure: OCIError?
                    if produced > 0 {
                        do throws(OCIError) { try self.scanner?.feed(UnsafeRawBufferPointer(rebasing: slot[..<produced])) } catch { failure = error }
                    }
                    let paired = min(end - next, produced)
                    ring.publish(slot, count: produced, range: next..<next + paired)
                    next += paired
                    if let failure { throw failure }
                })
            } catch {
                streamFailure = error
            }
        }
        if next < end { ring.publish(ring.acquire(), count: 0, range: next..<end) }
    }

    /// The hashing half: `stored` beside `tar`, as the two lanes.
    func hashPair(stored: UnsafeRawBufferPointer, tar: UnsafeRawBufferPointer) {
        pair?.update(first: stored, second: tar)
    }

    /// The rest of `checkStored`: counts the bytes, decompresses a layer, hashes and scans its tar.
    func checkStream(_ bytes: UnsafeRawBufferPointer) {
        storedCount += Int64(bytes.count)
        guard streamFailure == nil else { return }
        do throws(OCIError) {
            if let decoder { try decompress(bytes, with: decoder) } else if scanner != nil { try absorbTar(bytes) }
        } catch {
            streamFailure = error
        }
    }

    /// Stored output, after the last byte went through `checkStored`: the final checks (a
    /// wrong size or digest is reported before a damaged stream, its consequence).
    func endStored() throws(OCIError) {
        if let failure = streamFailure {
            _ = try storedDigest()
            throw failure
        }
        try finish()
    }

    /// Whether the bytes handed out are a layer's tar rather than the blob as stored.
    var outputsUncompressed: Bool { output == .uncompressed && decoder != nil }

    /// Where the stored bytes are, for a reader that maps them instead of calling `read`.
    var storedRegion: (file: SharedFile, offset: Int64, length: Int64) { (region.file, region.offset, region.remaining) }

    /// The next bytes; 0 at the end, once every check has passed.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(OCIError) -> Int {
        if check != nil { return 0 }
        do {
            if output == .stored || decoder == nil {
                let count = try region.read(into: buffer)
                if count == 0 {
                    try endStored()
                    return 0
                }
                checkStored(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                return count
            }
            return try readUncompressed(into: buffer, decoder: decoder!)
        } catch where error.code == .badCompression || error.code == .badTar {
            try failLate(error)
        }
    }

    /// A damaged stream or tar: the stored bytes are still read to their end, so that a wrong
    /// size or digest (the cause) is reported before its consequence.
    private func failLate(_ error: OCIError) throws(OCIError) -> Never {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let count = try region.read(into: buffer)
            if count == 0 { break }
            absorbStored(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
        _ = try storedDigest()
        throw error
    }

    private func readUncompressed(into buffer: UnsafeMutableRawBufferPointer, decoder: StreamDecoder) throws(OCIError) -> Int {
        while true {
            if inputStart == inputEnd && !storedEnded {
                inputStart = 0
                inputEnd = try region.read(into: input)
                if inputEnd == 0 { storedEnded = true } else { absorbStored(UnsafeRawBufferPointer(rebasing: input[..<inputEnd])) }
            }
            let pending = UnsafeRawBufferPointer(rebasing: input[inputStart..<inputEnd])
            let (consumed, produced) = try step(decoder, pending, buffer)
            inputStart += consumed
            if produced > 0 {
                try absorbTar(UnsafeRawBufferPointer(rebasing: buffer[..<produced]))
                return produced
            }
            if inputStart == inputEnd && storedEnded {
                decoderDrained = true
                try finish()
                return 0
            }
            if consumed == 0 && inputStart < inputEnd {
                throw OCIError(.badCompression, "\(name): the decompressor made no progress")
            }
        }
    }

    /// Push mode: decompresses `bytes` (with empty `bytes`, what is still buffered) into
    /// `scratch`, handing each piece to `sink`.
    private func decompress(_ bytes: UnsafeRawBufferPointer, with decoder: StreamDecoder,
                            into scratch: () -> UnsafeMutableRawBufferPointer? = { nil },
                            sink: ((UnsafeMutableRawBufferPointer, Int) throws(OCIError) -> Void)? = nil) throws(OCIError) {
        var rest = bytes
        while true {
            let target = scratch() ?? input
            let (consumed, produced) = try step(decoder, rest, target)
            rest = UnsafeRawBufferPointer(rebasing: rest[consumed...])
            if let sink { try sink(target, produced) } else if produced > 0 { try absorbTar(UnsafeRawBufferPointer(rebasing: target[..<produced])) }
            if produced == 0 && rest.isEmpty { return }
            if produced == 0 && consumed == 0 { throw OCIError(.badCompression, "\(name): the decompressor made no progress") }
        }
    }

    /// One decompression step, within the expansion limit (spec/oci.md §3).
    private func step(_ decoder: StreamDecoder, _ input: UnsafeRawBufferPointer,
                      _ output: UnsafeMutableRawBufferPointer) throws(OCIError) -> (consumed: Int, produced: Int) {
        let result = try decoder.step(input, output)
        expanded += Int64(result.produced)
        if expanded > limits.expansionFloor && Double(expanded) > Double(limits.maximumExpansion) * Double(storedCount) {
            throw OCIError(.badCompression, "\(name): decompresses to more than \(limits.maximumExpansion)× its size (\(expanded) bytes from \(storedCount)): refused as a decompression bomb")
        }
        return result
    }

    private func absorbStored(_ bytes: UnsafeRawBufferPointer) {
        hashStored(bytes)
        storedCount += Int64(bytes.count)
    }

    private func absorbTar(_ bytes: UnsafeRawBufferPointer) throws(OCIError) {
        if let pair { pair.update(first: UnsafeRawBufferPointer(start: nil, count: 0), second: bytes) } else { tarHasher?.update(bytes) }
        try scanner?.feed(bytes)
    }

    /// The stored bytes' size and digest checks; the computed digest.
    private func storedDigest() throws(OCIError) -> OCIDigest {
        let digest = OCIDigest(algorithm: storedAlgorithm, digest: pair?.first ?? storedHasher.finalize())
        if let size = blob.size, size != storedCount {
            throw OCIError(.mismatch, "\(name): size \(storedCount), expected \(size)")
        }
        if let expected = blob.digest, expected != digest {
            throw OCIError(.mismatch, "\(name): digest \(digest), expected \(expected)")
        }
        return digest
    }

    /// The end of the stored bytes: the size, the digest, the end of the compressed stream, the
    /// tar, the diff_id — the first that fails throws.
    private func finish() throws(OCIError) {
        var streamError: OCIError?
        if let decoder {
            do {
                if !decoderDrained { try decompress(UnsafeRawBufferPointer(start: nil, count: 0), with: decoder) }
                try decoder.finish()
            } catch {
                streamError = error
            }
        }
        let digest = try storedDigest()
        if let streamError { throw streamError }
        var result = BlobCheck(digest: digest, size: storedCount)
        if let scanner {
            try scanner.finish()
            let diffID = tarIsStored ? digest
                : OCIDigest(algorithm: tarAlgorithm, digest: pair?.second ?? tarHasher!.finalize())
            for expected in blob.diffIDs where expected != diffID {
                throw OCIError(.mismatch, "\(name): uncompressed digest (diff_id) \(diffID), expected \(expected)")
            }
            result.diffID = diffID
            result.tar = scanner.statistics
        }
        check = result
    }

    /// Reads to the end (verification only). A compressed layer is decompressed on this
    /// thread while a second one hashes and scans the tar (`Overlap`). `going` is asked after
    /// every 1 MiB read: false ends the drain with `CancellationError`.
    func drain(while going: () -> Bool = { true }) throws -> BlobCheck {
        if let decoder, output == .stored { return try drainOverlapped(decoder, while: going) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while try read(into: buffer) > 0 {
            try CancellationToken.process.check()
            guard going() else { throw CancellationError() }
        }
        return check!
    }

    private func drainOverlapped(_ decoder: StreamDecoder, while going: () -> Bool) throws -> BlobCheck {
        let overlap = Overlap(slots: 4, slotBytes: 1 << 20)
        let reader = UncheckedSendable(self)  // the tar state is only touched by the worker until it ends
        let worker = Thread {
            overlap.consume { bytes throws(OCIError) in try reader.value.absorbTar(bytes) }
        }
        worker.stackSize = 1 << 20
        worker.start()
        var failure: OCIError?
        do {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
            defer { buffer.deallocate() }
            while failure == nil {
                let count = try region.read(into: buffer)
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[..<count])
                absorbStored(bytes)
                do {
                    try decompress(bytes, with: decoder, into: { overlap.acquire() }) { slot, produced throws(OCIError) in
                        overlap.publish(slot, count: produced)
                    }
                } catch {
                    failure = error
                }
                if let error = overlap.error { failure = failure ?? error }
                if count == 0 { break }
                try CancellationToken.process.check()
                guard going() else { throw CancellationError() }
            }
        } catch {
            overlap.finishAndWait()
            throw error
        }
        overlap.finishAndWait()
        if let error = failure ?? overlap.error { try failLate(error) }
        decoderDrained = true
        try finish()
        return check!
    }
}

/// A value handed to one other thread that alone uses it meanwhile.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Two threads over a ring of buffers: the producer acquires a free slot, fills it and
/// publishes it; the consumer hands each published slot's bytes to its body, in order, then
/// frees it. The first error of the body is kept (later slots are then only freed).
final class Overlap: @unchecked Sendable {
    private let slots: [UnsafeMutableRawBufferPointer]
    /// Each slot's byte count (-1: the end); written by the producer before it signals.
    private let counts: UnsafeMutablePointer<Int>
    /// Each slot's range of the producer's own (`publish(_:count:range:)`).
    private let ranges: UnsafeMutablePointer<Range<Int>>
    /// Created at 0 and signalled once per slot: libdispatch refuses to dispose of a semaphore
    /// whose value is below the one it was created with.
    private let free = DispatchSemaphore(value: 0)
    private let filled = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private var next = 0
    private let lock = NSLock()
    private var firstError: OCIError?
    private var finished = false

    init(slots: Int, slotBytes: Int) {
        self.slots = (0..<slots).map { _ in .allocate(byteCount: slotBytes, alignment: 64) }
        counts = .allocate(capacity: slots)
        counts.initialize(repeating: 0, count: slots)
        ranges = .allocate(capacity: slots)
        ranges.initialize(repeating: 0..<0, count: slots)
        for _ in 0..<slots { free.signal() }
    }

    deinit {
        slots.forEach { $0.deallocate() }
        counts.deallocate()
        ranges.deinitialize(count: slots.count)
        ranges.deallocate()
    }

    var error: OCIError? { lock.withLock { firstError } }

    /// The next slot to fill (waits for one); `publish` or give it back with a count of 0.
    func acquire() -> UnsafeMutableRawBufferPointer {
        free.wait()
        return slots[next]
    }

    /// Hands the acquired slot to the consumer (`count` 0: the slot stays free).
    func publish(_ slot: UnsafeMutableRawBufferPointer, count: Int) {
        publish(slot, count: count, range: 0..<0)
    }

    /// Hands the acquired slot to the consumer with a range that travels with it (`count` 0
    /// and an empty range: the slot stays free).
    func publish(_ slot: UnsafeMutableRawBufferPointer, count: Int, range: Range<Int>) {
        if count == 0 && range.isEmpty {
            free.signal()
            return
        }
        counts[next] = count
        ranges[next] = range
        next = (next + 1) % slots.count
        filled.signal()
    }

    /// Ends the stream and waits until the consumer has seen every slot.
    func finishAndWait() {
        guard !finished else { return }
        finished = true
        free.wait()
        counts[next] = -1
        filled.signal()
        done.wait()
    }

    /// The consumer's loop (on its own thread).
    func consume(_ body: (UnsafeRawBufferPointer) throws(OCIError) -> Void) {
        consume { bytes, _ throws(OCIError) in try body(bytes) }
    }

    /// The consumer's loop, each slot with its range.
    func consume(_ body: (UnsafeRawBufferPointer, Range<Int>) throws(OCIError) -> Void) {
        var index = 0
        while true {
            filled.wait()
            let count = counts[index]
            if count < 0 { break }
            if error == nil {
                do { try body(UnsafeRawBufferPointer(rebasing: slots[index][..<count]), ranges[index]) } catch { lock.withLock { firstError = error } }
            }
            index = (index + 1) % slots.count
            free.signal()
        }
        done.signal()
    }
}

/// A blob reader as the importer's byte source. `ByteSource` can only throw `ChunkingError`,
/// so an OCI failure is kept here and the read fails with `EBADMSG`; the caller then throws
/// `failure.error` instead of the importer's error.
struct BlobSource: ByteSource, @unchecked Sendable {
    let reader: BlobReader
    let failure: FailureBox

    final class FailureBox: @unchecked Sendable {
        var error: OCIError?
    }

    init(_ reader: BlobReader) {
        self.reader = reader
        self.failure = FailureBox()
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ChunkingError) -> Int {
        do {
            return try reader.read(into: buffer)
        } catch {
            failure.error = error
            throw .readFailed(errno: EBADMSG)
        }
    }

}
