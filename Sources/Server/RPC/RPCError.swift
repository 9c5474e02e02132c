import NIOHTTP1
import BlockStore
import Engine
import CAR
import UnixFS
import Multiformats

/// A command's failure as Kubo reports it (go-ipfs-cmds error.go, http/responseemitter.go):
/// `{"Message","Code","Type":"error"}` with 500 for `Code` 0 (ErrNormal) and 400 for `Code` 1
/// (ErrClient); a few answers are plain text instead (403 auth, 413, 503).
struct RPCError: Error, Sendable {
    var status: Int
    var message: String
    /// Kubo's error code: 0 normal, 1 client.
    var code: Int = 0
    /// A plain-text answer rather than Kubo's JSON error object.
    var plainText = false

    init(status: Int, message: String, code: Int = 0, plainText: Bool = false) {
        self.status = status
        self.message = message
        self.code = code
        self.plainText = plainText
    }

    /// A bad argument or option: 400, `Code` 1.
    static func client(_ message: String) -> RPCError { RPCError(status: 400, message: message, code: 1) }
    /// A command that failed: 500, `Code` 0.
    static func normal(_ message: String) -> RPCError { RPCError(status: 500, message: message) }

    /// Kubo's answer for a block the node does not have (offline: the server never fetches).
    static func notFound(_ cid: CID) -> RPCError {
        .normal("block was not found locally (offline): ipld: could not find \(cid)")
    }

    /// Any error thrown by a command, as Kubo would report it.
    static func from(_ error: any Error) -> RPCError {
        switch error {
        case let error as RPCError: return error
        case let error as BlockStoreError:
            return error.code == .invalidInput ? .client(error.message) : .normal(error.message)
        case let error as EngineError: return .normal(error.message)
        case let error as CARError: return .normal(error.description)
        case let error as ImportOptionsError: return .client(error.description)
        case let error as ImportError: return .normal(error.description)
        case is CancellationError: return .normal("context canceled")
        // The request's own framing is broken (a bad chunk size, a body shorter than its
        // Content-Length, an unsupported transfer coding): the client's error, not the server's.
        case let error as HTTPParserError: return .client("malformed HTTP request: \(error)")
        default: return .normal("\(error)")
        }
    }
}
