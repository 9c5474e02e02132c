import Testing
import CairnSystem

/// Expected literals from Go's `encoding/json` documentation (Marshal: "<", ">", "&" become
/// \u003c, \u003e, \u0026 when HTML escaping is on; U+2028/U+2029 become \u2028/\u2029) and
/// RFC 8259 §7 (quotation mark, reverse solidus and control characters must be escaped).
@Suite struct JSONTextTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("a\"b\\c", "a\\\"b\\\\c"),
        ("line\nreturn\rtab\t", "line\\nreturn\\rtab\\t"),
        ("\u{01}\u{1f}", "\\u0001\\u001f"),
        ("<a&b>", "<a&b>"),
        ("é ✓", "é ✓"),
    ])
    func escapes(text: String, expected: String) {
        #expect(JSONText.escaped(text) == expected)
    }

    @Test func escapesHTMLAsGoDoes() {
        var out = ""
        JSONText.appendQuoted("<a&b>\u{2028}\u{2029}", to: &out, escapingHTML: true)
        #expect(out == "\"\\u003ca\\u0026b\\u003e\\u2028\\u2029\"")
    }
}
