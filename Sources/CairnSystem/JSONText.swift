/// JSON string literals, escaped as Go's `encoding/json` writes them (Kubo's output, which the
/// CLI's `--json` and the server's RPC answers match): `"` and `\` escaped, `\n`, `\r`, `\t`
/// by name, other control characters as `\u00XX`, and with `escapingHTML` also `<`, `>`, `&`,
/// U+2028 and U+2029 as `\uXXXX` (Go's default for HTTP answers).
public enum JSONText {
    /// Appends `"text"`, escaped, to `out`.
    public static func appendQuoted(_ text: String, to out: inout String, escapingHTML: Bool = false) {
        out += "\""
        appendEscaped(text, to: &out, escapingHTML: escapingHTML)
        out += "\""
    }

    /// The body of a JSON string literal for `text` (without the quotes).
    public static func escaped(_ text: String, escapingHTML: Bool = false) -> String {
        var out = ""
        appendEscaped(text, to: &out, escapingHTML: escapingHTML)
        return out
    }

    private static func appendEscaped(_ text: String, to out: inout String, escapingHTML: Bool) {
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                let html = scalar == "<" || scalar == ">" || scalar == "&" || scalar == "\u{2028}" || scalar == "\u{2029}"
                if scalar.value < 0x20 || (escapingHTML && html) {
                    appendUnicodeEscape(scalar, to: &out)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
    }

    private static func appendUnicodeEscape(_ scalar: Unicode.Scalar, to out: inout String) {
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
