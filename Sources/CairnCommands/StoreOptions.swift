import ArgumentParser
import BlockStore
import Foundation
import Multiformats

import CairnSystem

/// `--store PATH`, shared by every command that uses the block store.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("store"), help: "Block store directory (default: $CAIRN_HOME, else ~/.cairn).")
    var path: String?

    var layout: StoreLayout {
        StoreLayout.resolve(explicit: path, environment: ProcessInfo.processInfo.environment)
    }

    /// Opens the store; commands that only read pass `create: false` (a clear error if absent).
    func open(create: Bool) throws -> BlockStore {
        try storeCall { try BlockStore(layout: layout, create: create) }
    }
}

/// Runs `body`, turning store errors into one-line CLI errors.
@discardableResult
func storeCall<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as BlockStoreError {
        throw CLIError(error.message)
    } catch is CancellationError {
        throw CLIError("cancelled")
    }
}

/// A `--threads` value: nil (every core) or at least 1.
func checkThreads(_ threads: Int?) throws {
    if let threads, threads < 1 { throw CLIError("--threads must be at least 1, got \(threads)") }
}

/// Parses a CID argument, with a one-line error naming it.
func parseCID(_ text: String) throws -> CID {
    do {
        return try CID(text)
    } catch {
        throw CLIError("invalid CID '\(text)': \(error)")
    }
}

/// Writes all of `bytes` to a descriptor.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, name: String = "standard output") throws {
    do { try SystemCall.writeAll(fd, bytes, path: name) } catch { throw CLIError(error.description) }
}

/// Reads a whole file (or standard input for `-`), refusing more than `limit` bytes.
func readAllInput(_ path: String, limit: Int) throws -> [UInt8] {
    let input = try ByteInput(path: path)
    var bytes: [UInt8] = []
    try input.forEachBlock { chunk in
        guard bytes.count + chunk.count <= limit else {
            throw CLIError("\(input.name) is larger than the largest block allowed (\(limit) bytes)")
        }
        bytes.append(contentsOf: chunk)
    }
    return bytes
}
