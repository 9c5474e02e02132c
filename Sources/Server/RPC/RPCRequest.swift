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
            // A malformed escape drops the pair, as Go's `URL.Query()` (go-ipfs-cmds) drops it.
            guard let keyBytes = RPCRequest.unescape(parts[0]), let valueBytes = parts.count == 2 ? RPCRequest.unescape(parts[1]) : [] else {
                continue
            }
            // Go keeps the bytes as they are; arguments here are text, so bytes that are not
            // UTF-8 are refused rather than read as something else (`%FF` as the name "%FF").
            guard let key = String(validating: keyBytes, as: UTF8.self), let value = String(validating: valueBytes, as: UTF8.self) else {
                throw RPCError(status: 400, message: "query parameter \"\(String(decoding: keyBytes, as: UTF8.self))\" is not valid UTF-8 once unescaped", plainText: true)
            }
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

    /// Go's query unescaping (net/url `unescape`, query mode): `+` is a space and `%XX` the
    /// byte XX; nil for a `%` not followed by two hex digits.
    static func unescape(_ text: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var bytes = text.utf8.makeIterator()
        func hex(_ byte: UInt8?) -> UInt8? {
            switch byte {
            case let b? where b >= 0x30 && b <= 0x39: return b - 0x30
            case let b? where b >= 0x41 && b <= 0x46: return b - 0x41 + 10
            case let b? where b >= 0x61 && b <= 0x66: return b - 0x61 + 10
            default: return nil
            }
        }
        while let byte = bytes.next() {
            switch byte {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = hex(bytes.next()), let low = hex(bytes.next()) else { return nil }
                out.append(high << 4 | low)
            default: out.append(byte)
            }
        }
        return out
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

    /// A text option, nil when absent or empty (`name=` is no name).
    func text(_ name: String) -> String? {
        options[name].flatMap { $0.isEmpty ? nil : $0 }
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
            throw RPCError.client("invalid path \"\(text)\": expected a CID, CID/NAME… or /ipfs/CID/NAME…")
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
