/// `text` made safe to show on one line of a terminal: control characters (newlines, escapes,
/// NUL, C1) written as `\n`, `\r`, `\t` or `\u{1b}`, and at most `limit` characters kept (the
/// rest counted). For messages that quote what a user, a file or a remote gave.
public func oneLine(_ text: String, limit: Int) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value):
            out += "\\u{" + String(scalar.value, radix: 16) + "}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out.count > limit ? String(out.prefix(limit)) + "… (\(out.count - limit) more characters)" : out
}
