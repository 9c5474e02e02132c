import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import NIOCore
import BlockStore
import Blocks
import Chunking
import Engine
import Multiformats
import Remote
import UnixFS
import CairnTestSupport

/// A local store in a temporary directory with a layer-like tree added: `files` files of
/// pseudo-random bytes (seeded), 4 KiB chunks so a DAG has many blocks.
struct LocalLayer {
    let directory: URL
    let store: BlockStore

    init(_ label: String) throws {
        directory = try makeTemporaryDirectory(label)
        store = try BlockStore(layout: StoreLayout(root: directory.path + "/store"))
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// Writes the tree `files` (name → bytes) under `name` and adds it; returns its root.
    func add(_ name: String, _ files: [String: [UInt8]]) throws -> CID {
        let tree = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        for (file, bytes) in files { try Data(bytes).write(to: tree.appendingPathComponent(file)) }
        let adder = Adder(parameters: ImportParameters(chunker: .fixed(size: 4096), cidVersion: .v1, rawLeaves: true),
                          threads: 2, walk: WalkSettings(recursive: true))
        return try adder.add([.path(tree.path)], to: .store(store, pin: true)) { _ in }
    }

    /// Every block of `root`'s DAG, found by the test's own walk.
    func dag(_ root: CID) throws -> Set<CID> {
        var seen: Set<CID> = [], stack = [root]
        while let cid = stack.popLast() {
            guard seen.insert(cid).inserted else { continue }
            stack.append(contentsOf: try links(of: cid, try store.get(cid)))
        }
        return seen
    }
}

/// Two versions of a layer: v2 changes one file of v1 and adds another.
func layerVersions() -> (v1: [String: [UInt8]], v2: [String: [UInt8]]) {
    let v1 = [
        "a.bin": SplitMix64.bytes(seed: 1, count: 200_000),
        "b.bin": SplitMix64.bytes(seed: 2, count: 120_000),
        "c.txt": Array(String(repeating: "layer text\n", count: 3000).utf8),
    ]
    var v2 = v1
    v2["b.bin"] = SplitMix64.bytes(seed: 3, count: 120_000)
    v2["d.bin"] = SplitMix64.bytes(seed: 4, count: 50_000)
    return (v1, v2)
}

func kubo(_ base: String, _ configure: (inout RemoteSettings) -> Void = { _ in }) throws -> KuboBlockHolder {
    var settings = RemoteSettings()
    settings.backoff = .milliseconds(1)
    configure(&settings)
    return KuboBlockHolder(address: try RemoteAddress(parsing: base), settings: settings)
}

/// Runs `cairn` off the cooperative pool (the test server's handlers need it).
func runCairn(_ arguments: [String], environment: [String: String] = [:]) async throws -> CairnProcess.Result {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result { try CairnProcess.run(arguments, environment: environment) })
        }.start()
    }
}

/// A fake node whose server returned without error before it listened.
struct FakeNodeStoppedEarly: Error, CustomStringConvertible {
    var label: String
    var description: String { "the fake node \(label) stopped before it listened" }
}

/// Serves `respond` on a free loopback port while `body` runs with the port, then stops.
func serveOnLoopback(
    _ label: String, respond: @escaping @Sendable (Request) async throws -> Response,
    _ body: @Sendable (Int) async throws -> Void
) async throws {
    // Server and requests on threads of their own (DedicatedExecutor), as the gateway tests do:
    // under a sanitizer, synchronous tests held the shared pool past the client's deadline.
    try await withTaskExecutorPreference(DedicatedExecutor.shared) {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: label)
        logger.logLevel = .critical
        let app = Application(
            responder: CallbackResponder { (request: Request, _: BasicRequestContext) in try await respond(request) },
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        // Stopped by a graceful shutdown, not by cancelling its task: cancelled, Hummingbird's
        // server drops a connection accepted but not yet served, whose NIOAsyncWriter then traps
        // when released unfinished (apple/swift-nio#3481; caught once in 124 RemoteTests runs
        // under ASan). The graceful shutdown closes every accepted connection first.
        var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(10)
        let group = ServiceGroup(configuration: configuration)
        let serving = Task(executorPreference: DedicatedExecutor.shared) {
            // A server that stops before it listens (a bind that fails) ends the wait below,
            // which then reports its error instead of waiting for good.
            defer { continuation.finish() }
            try await group.run()
        }
        var port = 0
        for await p in ports { port = p; break }
        guard port != 0 else {
            try await serving.value
            throw FakeNodeStoppedEarly(label: label)
        }
        do {
            try await body(port)
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await serving.value
            throw error
        }
        await group.triggerGracefulShutdown()
        _ = try? await serving.value
    }
}
