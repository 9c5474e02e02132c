// CARv1/CARv2 (spec/car.md): the streaming reader and verifier over an in-memory source never
// crash; every block handed out is inside the input and hashes to its CID (re-checked here
// with a one-shot hash here); a CAR that verifies reads again to the same summary.
import CAR
import FuzzSupport
import Hashing
import Multiformats

/// Small limits so the reader's buffer stays small and the fuzzer reaches the limit checks.
private let options: CARVerifyOptions = {
    var options = CARVerifyOptions()
    options.read.maxHeaderBytes = 4096
    options.read.maxSectionBytes = 16 << 10
    options.read.maxBlockBytes = 8 << 10
    options.read.bufferBytes = 64 << 10
    options.read.hashThreads = 1
    options.checkComplete = true
    options.checkIndex = true
    options.requireRoots = false
    // Room for every block an input can hold (max_len 16 KiB, a section is ≥ 2 bytes): the
    // default (65 536 keys) made each of the four key sets per input reserve a 5 MB table.
    // Nothing spills to a temporary file (the spills have their own tests), so no file I/O.
    options.keysInMemory = 8192
    return options
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCAR(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = inputBytes(data, size)
    var blocks = 0
    let summary = try? CARVerifier.verify(CARMemorySource(bytes), options: options) { block in
        blocks += 1
        require(block.offset < UInt64(bytes.count), "block offset \(block.offset) past the input")
        require(block.bytes.count <= options.read.maxSectionBytes, "block larger than a section")
        requireHashMatches(block.cid, block.bytes)
    }
    guard let summary else { return 0 }
    require(summary.blockCount == blocks, "summary counts \(summary.blockCount) blocks, saw \(blocks)")
    require(summary.distinctBlocks <= summary.blockCount, "more distinct blocks than blocks")
    let again = try? CARVerifier.verify(CARMemorySource(bytes), options: options)
    require(again == summary, "a second read of the same CAR differs")
    // The plain reader agrees with the verifier.
    if let reader = try? CARReader(source: CARMemorySource(bytes), options: options.read) {
        require(reader.header == summary.header, "reader and verifier headers differ")
        let counted = try? reader.forEachBlock { _ in }
        require(counted?.blocks == summary.blockCount, "reader and verifier block counts differ")
        if summary.header.v2 != nil, (summary.header.v2?.indexOffset ?? 0) != 0 {
            _ = try? reader.forEachIndexEntry { _ in }
        }
    }
    return 0
}

/// Hashes the block on its own (one-shot, no batch kernels) and compares with its CID.
private func requireHashMatches(_ cid: CID, _ bytes: UnsafeRawBufferPointer) {
    let multihash = cid.multihash
    guard let algorithm = HashAlgorithm(multihashCode: multihash.code.rawValue) else {
        require(false, "the reader accepted a block with unsupported hash \(multihash.code)")
        return
    }
    let digest = algorithm.hash(bytes).bytes
    if algorithm == .identity {
        require(digest == multihash.digest, "identity CID \(cid) does not hold the block's bytes")
    } else {
        require(Array(digest.prefix(multihash.length)) == multihash.digest && multihash.length <= digest.count,
                "block \(cid) does not hash to its CID")
    }
}
