import ArgumentParser
import BlockStore
import Engine
import Foundation
import Remote

import CairnSystem

/// The options every command that talks to a remote shares (spec/remote.md §1): credentials,
/// the call deadline and the calls in flight. The address itself is each command's
/// `--to`/`--from`; without one, `$IPFS_PATH/api` (else `~/.ipfs/api`) names the node.
struct RemoteOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Credentials: basic:USER:PASSWORD or bearer:TOKEN (else $CAIRN_API_AUTH). Never printed.",
        valueName: "secret"))
    var apiAuth: String?

    @Option(name: .long, help: ArgumentHelp("Deadline of one call (e.g. 30s, 2m; default 120s).", valueName: "duration"))
    var timeout = "120s"

    @Option(name: .long, help: "Existence checks in flight at once (default 32).")
    var concurrency = 32

    func validate() throws {
        guard let limit = parseDuration(timeout), limit > .zero else {
            throw ValidationError("--timeout takes a duration such as 30s or 2m (at most 100000000s), not '\(timeout)'")
        }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1, got \(concurrency)") }
        _ = try settings()
    }

    func settings() throws -> RemoteSettings {
        let secret = apiAuth ?? ProcessInfo.processInfo.environment["CAIRN_API_AUTH"]
        var settings = RemoteSettings()
        do {
            settings.auth = try secret.map { (text) throws(RemoteError) in try RemoteAuth(parsing: text) }
        } catch {
            throw ValidationError(error.message)
        }
        settings.callTimeout = parseDuration(timeout) ?? .seconds(120)
        settings.concurrency = concurrency
        return settings
    }

    /// The remote `text` names, else the node `$IPFS_PATH/api` (else `~/.ipfs/api`) names,
    /// as Kubo's own client finds a running daemon.
    static func address(_ text: String?) throws -> RemoteAddress {
        let environment = ProcessInfo.processInfo.environment
        var given = text
        if given == nil {
            let repo = environment["IPFS_PATH"] ?? ((environment["HOME"] ?? "") + "/.ipfs")
            guard let contents = try? String(contentsOfFile: repo + "/api", encoding: .utf8) else {
                throw usageError("no address given and no running node found (\(repo)/api): pass --to/--from ADDRESS")
            }
            given = contents.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        do {
            return try RemoteAddress(parsing: given!)
        } catch {
            throw usageError(error.message)
        }
    }

    /// Opens the backend for `address` and runs `body` with it, closing it afterwards;
    /// SIGINT/SIGTERM cancel the work (the process then exits 130/143, spec/cli.md).
    func withRemote<T: Sendable>(
        _ address: RemoteAddress, configure: (inout RemoteSettings) -> Void = { _ in },
        _ body: @escaping @Sendable (any RemoteBlockHolder) async throws -> T
    ) async throws -> T {
        let remote: any RemoteBlockHolder
        var configured = try settings()
        configure(&configured)
        do { remote = try openRemote(address, settings: configured) } catch let error as RemoteError {
            throw remoteFailure(error, auth: configured.auth)
        }
        do {
            let value = try await cancellable { try await body(remote) }
            await remote.close()
            return value
        } catch {
            await remote.close()
            throw remoteFailure(error, auth: configured.auth)
        }
    }
}

/// Runs `body` until it ends or the process is asked to stop: a second task of the group
/// watches `CancellationToken.process` (the signal's flag, every 10 ms) and, once it is
/// cancelled, ends the group, which cancels `body`'s task and the HTTP request it awaits
/// (spec/system.md §4: within 100 ms, the remote client's shutdown and the store writer's
/// abandon included).
func cancellable<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            while !CancellationToken.process.isCancelled {
                try await Task.sleep(for: .milliseconds(10))
            }
            throw CancellationError()
        }
        defer { group.cancelAll() }
        while let result = try await group.next() {
            if let result { return result }
        }
        throw CancellationError()
    }
}

/// A remote, store or engine error as one CLI line: usage errors exit 64, the others 1.
func remoteFailure(_ error: any Error, auth: RemoteAuth? = nil) -> any Error {
    // Whatever a remote said (a status text, a trailer, an answer quoted as unexpected) may
    // echo the credentials back: they never reach the terminal (spec/remote.md §1.2).
    let hide = { (text: String) in auth?.redacting(text) ?? text }
    switch error {
    case let error as RemoteError where error.code == .usage: return usageError(hide(error.message))
    case let error as RemoteError: return CLIError(hide(error.message))
    case let error as BlockStoreError: return CLIError(error.message)
    case let error as EngineError: return CLIError(error.message)
    case let error as CLIError: return CLIError(hide(error.description))
    default:
        guard let auth else { return error }
        let text = "\(error)"
        let hidden = auth.redacting(text)
        return hidden == text ? error : CLIError(hidden)
    }
}

/// The stderr progress line of a remote command, only on a terminal.
struct RemoteProgress: Sendable {
    let enabled = isatty(2) != 0

    func show(_ stage: String, _ done: Int, _ total: Int) {
        guard enabled else { return }
        let line = "\u{1B}[2K\r\(stage): \(done)/\(total) blocks"
        Array(line.utf8).withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }

    func clear() {
        guard enabled else { return }
        Array("\u{1B}[2K\r".utf8).withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }
}

/// The IPFS Cluster options of `cairn push` (spec/remote.md §4); ignored for other remotes.
struct ClusterFlags: ParsableArguments {
    @Option(name: .long, help: "Cluster: the minimum number of peers that pin the root (default: the Cluster's).")
    var replicationMin: Int?

    @Option(name: .long, help: "Cluster: the maximum number of peers that pin the root (default: the Cluster's).")
    var replicationMax: Int?

    @Option(name: .long, help: ArgumentHelp("Cluster: the Kubo RPC address answering existence checks (default: the Cluster's host, port 9095).", valueName: "address"))
    var clusterProxy: String?

    @Flag(name: .long, help: "Cluster: wait until the root is pinned on --replication-min peers.")
    var wait = false

    func validate() throws {
        for (flag, value) in [("--replication-min", replicationMin), ("--replication-max", replicationMax)] {
            if let value, value < -1 { throw ValidationError("\(flag) takes -1 (every peer), 0 (the Cluster's default) or a peer count, not \(value)") }
        }
        if let min = replicationMin, let max = replicationMax, min > 0, max > 0, min > max {
            throw ValidationError("--replication-min \(min) is above --replication-max \(max)")
        }
        if let clusterProxy, (try? RemoteAddress(parsing: clusterProxy))?.kind != .kubo {
            throw ValidationError("--cluster-proxy takes a Kubo RPC address (http://HOST:PORT or /ip4/HOST/tcp/PORT), not '\(clusterProxy)'")
        }
    }

    /// Sets the Cluster options of `settings`.
    func apply(to settings: inout RemoteSettings) {
        settings.cluster.replicationMin = replicationMin
        settings.cluster.replicationMax = replicationMax
        settings.cluster.proxy = clusterProxy.flatMap { try? RemoteAddress(parsing: $0) }
        settings.cluster.wait = wait
    }
}
