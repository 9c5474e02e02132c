import Multiformats
import UnixFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Prints `cairn add` events the way `ipfs add` does.
final class AddOutput {
    enum Mode { case lines, cids, root, json }

    let mode: Mode
    private var last: String?

    init(mode: Mode) { self.mode = mode }

    /// One added entry. `name` nil = unnamed standard input: Kubo then prints the CID as the name.
    func added(_ result: ImportResult, name: String?) {
        let cid = result.root.description
        last = cid
        switch mode {
        case .lines: writeStandardOutput("added \(cid) \(AddOutput.escape(name ?? cid))\n")
        case .cids: writeStandardOutput(cid + "\n")
        case .root: break
        case .json:
            writeStandardOutput("{\"Name\":\"\(AddOutput.jsonEscape(name ?? cid))\",\"Hash\":\"\(cid)\",\"Size\":\"\(result.size)\"}\n")
        }
    }

    func finish() {
        if mode == .root, let last { writeStandardOutput(last + "\n") }
    }

    /// Kubo escapes non-printable characters in printed names (`cmdenv.EscNonPrint`).
    static func escape(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\x" + String(scalar.value, radix: 16, uppercase: false).leftPadded(to: 2)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func jsonEscape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

/// The stderr progress line, shown only when stderr is a terminal.
enum AddProgress {
    static func reporter(name: String) -> @Sendable (UInt64) -> Void {
        { bytes in
            let mib = Double(bytes) / 1_048_576
            let line = "\u{1B}[2K\r\(name): \(String(Int(mib))) MiB"
            Array(line.utf8).withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
        }
    }

    static func clear() {
        let line = "\u{1B}[2K\r"
        Array(line.utf8).withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
