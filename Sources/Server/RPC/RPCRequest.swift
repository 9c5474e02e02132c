import Foundation
import Hummingbird
import Engine
import Multiformats

/// A command's arguments as Kubo reads them from the query (go-ipfs-cmds http/parse.go):
/// positional arguments in repeated `arg` parameters, options as `name=value`, booleans as
/// `true`/`false` (a bare `name` or `name=` counts as true, as `strconv.ParseBool` accepts
/// none of the others).
struct RPCRequest: Sendable {
    let command: String
    let arguments: [String]
    let options: [String: String]
    let request: Request
    /// The `timeout` option in seconds (enforced by `RPCDeadline`).
    private(set) var timeout: Double?

    init(command: String, request: Request) throws {
        self.command = command
        self.request = request
        var arguments: [String] = []
        var options: [String: String] = [:]
        for pair in (request.uri.query ?? "").split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = RPCRequest.decode(parts[0])
            let value = parts.count == 2 ? RPCRequest.decode(parts[1]) : ""
            if key == "arg" { arguments.append(value) } else if options[key] == nil { options[key] = value }
        }
        self.arguments = arguments
        self.options = options
        if let text = options["timeout"] {
            guard let seconds = RPCRequest.duration(text) else {
                throw RPCError(status: 400, message: "invalid timeout value: \"\(text)\"", plainText: true)
            }
            timeout = seconds
        }
    }

    /// `application/x-www-form-urlencoded` decoding, as Go's `url.ParseQuery`.
    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// A boolean option (`default` when absent); a value that is not a boolean is Kubo's
    /// option parse error, 400 text.
    func bool(_ name: String, default value: Bool) throws -> Bool {
        guard let text = options[name] else { return value }
        switch text.lowercased() {
        case "", "true", "1", "t": return true
        case "false", "0", "f": return false
        default:
            throw RPCError(status: 400, message: "error parsing option \"\(name)\": \"\(text)\" is not a boolean", plainText: true)
        }
    }

    func int(_ name: String, default value: Int) throws -> Int {
        guard let text = options[name] else { return value }
        guard let number = Int(text) else {
            throw RPCError(status: 400, message: "error parsing option \"\(name)\": \"\(text)\" is not an integer", plainText: true)
        }
        return number
    }

    /// The `index`th positional argument, required.
    func argument(_ name: String) throws -> String {
        guard let first = arguments.first else { throw RPCError.client("argument \"\(name)\" is required") }
        return first
    }

    /// An `ipfs-path` argument as Kubo takes one (`CID`, `/ipfs/CID`, `CID/NAME/…`,
    /// `/ipfs/CID/NAME/…`): the root and the names below it (empty segments skipped; `.` and
    /// `..` refused). Resolved by `ServerState.resolve`.
    static func path(_ text: String) throws -> (root: CID, segments: [String]) {
        let path: IPFSPath
        do throws(IPFSPath.Failure) { path = try IPFSPath(parsing: text) } catch {
            switch error {
            case .noRoot: throw RPCError.client("invalid path \"\(text)\": expected a CID, CID/NAME… or /ipfs/CID/NAME…")
            case .dotName: throw RPCError.client("invalid path \"\(text)\": '.' and '..' are not names")
            }
        }
        let first = path.root, segments = path.names
        do {
            return (try CID(first), segments)
        } catch {
            throw RPCError.client("invalid path \"\(first)\": \(error)")
        }
    }

    /// A Go duration (`30s`, `1m30s`, `500ms`, `2h`), in seconds.
    static func duration(_ text: String) -> Double? {
        var total = 0.0
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("h", 3600), ("m", 60), ("s", 1)]
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        return total
    }
}
