import Engine
import ArgumentParser
import BlockStore
import Foundation
import Multiformats

import CairnSystem

/// `--store PATH`, shared by every command that uses the block store.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("store"), help: "Block store directory (default: $CAIRN_HOME, else ~/.cairn).")
    var path: String?

    @Option(name: .long, help: ArgumentHelp(
        "How long a writer waits for the store lock (e.g. 500ms, 10s, 2m; default: as long as it takes).",
        valueName: "duration"))
    var lockTimeout: String?

    var layout: StoreLayout {
        StoreLayout.resolve(explicit: path, environment: ProcessInfo.processInfo.environment)
    }

    func validate() throws {
        // An empty value (an unset variable in a script) would mean the default store.
        if path?.isEmpty == true { throw ValidationError("--store takes a directory, not an empty string") }
        if let lockTimeout, parseDuration(lockTimeout) == nil {
            throw ValidationError("--lock-timeout takes a duration such as 500ms, 10s or 2m (at most 100000000s), not '\(lockTimeout)'")
        }
    }

    /// How a writer of this command waits for the lock: a notice on stderr once, and the
    /// `--lock-timeout` bound if given.
    var lockWait: LockWait {
        LockWait(timeout: lockTimeout.flatMap(parseDuration)) { notice in
            var line = notice + "\n"
            line.withUTF8 { try? writeAll(2, UnsafeRawBufferPointer($0), name: "standard error") }
        }
    }

    /// Opens the store; commands that only read pass `create: false` (a clear error if absent;
    /// the index is then opened read-only until the command writes).
    func open(create: Bool) throws -> BlockStore {
        try storeCall { try BlockStore(layout: layout, create: create, lockWait: lockWait) }
    }
}

/// `500ms`, `10s`, `1.5s`, `2m`, `1h`, or a number of seconds; nil for anything else.
func parseDuration(_ text: String) -> Duration? {
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
    var number = Substring(text), scale = 1.0
    for (suffix, factor) in units where text.hasSuffix(suffix) {
        number = text.dropLast(suffix.count)
        scale = factor
        break
    }
    // At most 10⁸ s (about three years): a larger one would overflow the clocks it is added to.
    guard let value = Double(number), value >= 0, value.isFinite, value * scale <= 100_000_000 else { return nil }
    return .milliseconds(Int64((value * scale * 1000).rounded()))
}

/// Runs `body`, turning store errors into one-line CLI errors.
@discardableResult
func storeCall<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as BlockStoreError {
        throw CLIError(error.message)
    } catch let error as EngineError {
        throw CLIError(error.message)
    } catch is CancellationError {
        throw CLIError("cancelled")
    }
}

/// A `--threads` value: nil (every core) or 1 to 1024 (more is a typo, and sizes the hashing
/// buffers are multiplied by).
func checkThreads(_ threads: Int?) throws {
    if let threads, !(1...1024).contains(threads) { throw CLIError("--threads must be from 1 to 1024, got \(threads)") }
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
