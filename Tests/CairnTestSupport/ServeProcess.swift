import Foundation

/// A `cairn serve` process (the release binary) on a free loopback port, over its own store.
public final class ServeProcess: @unchecked Sendable {
    public let process = Process()
    public let port: Int
    public let store: String
    private let stderrPipe = Pipe()
    private let errors = StderrSink()

    /// Starts `cairn serve --store STORE --api 127.0.0.1:0 --gateway none EXTRA…` and waits for
    /// its listening line on stdout.
    public init(store: String, extra: [String] = [], environment: [String: String] = [:]) throws {
        guard let binary = CairnProcess.binary else { throw ServeTestError("cairn binary not found") }
        self.store = store
        process.executableURL = binary
        process.arguments = ["serve", "--store", store, "--api", "127.0.0.1:0", "--gateway", "none"] + extra
        if !environment.isEmpty {
            var merged = ProcessInfo.processInfo.environment
            for (key, value) in environment { merged[key] = value }
            process.environment = merged
        }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = stderrPipe
        try process.run()
        let sink = errors
        let handle = stderrPipe.fileHandleForReading
        Thread { while case let data = handle.availableData, !data.isEmpty { sink.append(data) } }.start()
        var seen = ""
        var found: Int?
        let reader = out.fileHandleForReading
        while found == nil {
            let data = reader.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
            if let range = seen.range(of: "RPC API server listening on /ip4/127.0.0.1/tcp/"),
               let line = seen[range.upperBound...].split(separator: "\n").first, seen[range.upperBound...].contains("\n") {
                found = Int(line)
            }
        }
        guard let found else {
            process.waitUntilExit()
            throw ServeTestError("cairn serve did not start: \(seen) \(errors.text)")
        }
        port = found
    }

    public var url: String { "http://127.0.0.1:\(port)" }
    public var stderr: String { errors.text }

    /// SIGTERM (or another signal), then waits; returns the exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        Thread.sleep(forTimeInterval: 0.05)  // let the stderr reader drain
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
}

public final class StderrSink: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    public init() {}
    public func append(_ more: Data) { lock.lock(); data.append(more); lock.unlock() }
    public var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}

public struct ServeTestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
