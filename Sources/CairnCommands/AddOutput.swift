import Engine
import Multiformats
import UnixFS
import Blocks

import CairnSystem

/// Prints `cairn add` events the way `ipfs add` does, in the order the `Adder` delivers them
/// (Kubo's: files as added, then the directories of the unit, children before parents). CIDs
/// are written by `encoder` (`--cid-base`, `--upgrade-cidv0-in-output`); `--silent` prints
/// nothing.
final class AddOutput {
    enum Mode { case lines, cids, root, json, silent }

    let mode: Mode
    let encoder: CIDTextEncoder
    private var last: String?

    init(mode: Mode, encoder: CIDTextEncoder = .kubo) {
        self.mode = mode
        self.encoder = encoder
    }

    /// One event. A nil path = unnamed standard input: Kubo then prints the CID as the name, in
    /// its default text form (`addNode` names it `Cid().String()`, before `--cid-base`).
    func added(_ event: AddEvent) {
        print(event.result, name: event.path)
    }

    private func emit(_ text: String) {
        writeStandardOutput(text)
    }

    private func print(_ result: ImportResult, name: [UInt8]?) {
        let cid = encoder.string(result.root)
        last = cid
        let shown = name ?? Array(result.root.description.utf8)
        switch mode {
        case .lines: emit("added \(cid) \(AddOutput.escape(shown))\n")
        case .cids: emit(cid + "\n")
        case .root, .silent: break
        case .json:
            let text = String(decoding: shown, as: UTF8.self)
            emit("{\"Name\":\"\(AddOutput.jsonEscape(text))\",\"Hash\":\"\(cid)\",\"Size\":\"\(result.size)\"}\n")
        }
    }

    func finish() {
        if mode == .root, let last { emit(last + "\n") }
    }

    /// Kubo's `cmdenv.EscNonPrint`: a name with a backslash, invalid UTF-8 or a non-printable
    /// character is printed as the inside of Go's `strconv.Quote` (with `"` left bare), so a
    /// hostile name can never break a line or the terminal.
    static func escape(_ name: [UInt8]) -> String {
        let text = String(decoding: name, as: UTF8.self)
        let valid = Array(text.utf8) == name
        if valid && !text.unicodeScalars.contains(where: { $0 == "\\" || !isPrintable($0) }) { return text }
        var out = ""
        var index = 0
        while index < name.count {
            let byte = name[index]
            if byte < 0x80 {
                let scalar = Unicode.Scalar(byte)
                switch byte {
                case 0x07: out += "\\a"
                case 0x08: out += "\\b"
                case 0x0C: out += "\\f"
                case 0x0A: out += "\\n"
                case 0x0D: out += "\\r"
                case 0x09: out += "\\t"
                case 0x0B: out += "\\v"
                case 0x5C: out += "\\\\"
                default:
                    if byte < 0x20 || byte == 0x7F {
                        out += "\\x" + hex(UInt32(byte), width: 2)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
                index += 1
                continue
            }
            // A multi-byte sequence: decode one scalar if valid, else escape the byte.
            let length = byte >= 0xF0 ? 4 : (byte >= 0xE0 ? 3 : (byte >= 0xC0 ? 2 : 1))
            if index + length <= name.count, length > 1 {
                let piece = Array(name[index..<(index + length)])
                let decoded = String(decoding: piece, as: UTF8.self)
                if Array(decoded.utf8) == piece, let scalar = decoded.unicodeScalars.first {
                    if isPrintable(scalar) {
                        out.unicodeScalars.append(scalar)
                    } else if scalar.value <= 0xFFFF {
                        out += "\\u" + hex(scalar.value, width: 4)
                    } else {
                        out += "\\U" + hex(scalar.value, width: 8)
                    }
                    index += length
                    continue
                }
            }
            out += "\\x" + hex(UInt32(byte), width: 2)
            index += 1
        }
        return out
    }

    /// Go's `strconv.IsPrint`, approximated with Unicode general categories: letters, marks,
    /// numbers, punctuation, symbols and the ASCII space.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .spaceSeparator, .lineSeparator, .paragraphSeparator:
            return false
        default:
            return true
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        String(value, radix: 16).leftPadded(to: width)
    }

    static func jsonEscape(_ text: String) -> String { JSONText.escaped(text) }
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
