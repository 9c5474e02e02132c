import CairnSystem

/// gitignore-style rules, as `ipfs add --ignore RULE` and `--ignore-rules-path FILE` take them.
///
/// The syntax and matching are git's documented ones (`man gitignore`, "PATTERN FORMAT"),
/// written here from that text:
/// - a blank line matches nothing; a line starting with `#` is a comment (`\#` for a literal);
/// - trailing spaces are dropped unless escaped with a backslash; a CR before the line end too;
/// - a leading `!` negates the rule (`\!` for a literal); the last matching rule decides;
/// - a trailing `/` makes the rule match directories only;
/// - a `/` at the beginning or in the middle anchors the rule to the root of the paths it is
///   asked about (a leading `/` is then dropped); without one it matches the last component at
///   any depth;
/// - `*` matches any run of characters but `/`, `?` one character but `/`, `[...]` one character
///   of a class (ranges `a-z`, negation `[!...]` or `[^...]`, POSIX `[:alpha:]`…, `\` escapes,
///   never `/`), `\x` the character `x`;
/// - `**/` at the start matches in all directories, `/**` at the end everything inside, `/**/`
///   zero or more directories; other `**` are plain `*`;
/// - a path whose parent directory is excluded is excluded (git cannot re-include it).
///
/// Paths are bytes (`/`-separated, relative, no trailing `/`); matching is case-sensitive.
/// `cairn add` asks about one entry name at a time (Kubo's filter matches `fileInfo.Name()`), so
/// there an anchored rule like `/build` matches `build` at every depth and a rule with an inner
/// `/` never matches.
public struct IgnoreRules: Hashable, Sendable {
    struct Rule: Hashable, Sendable {
        var pattern: [UInt8]
        var negated: Bool
        var directoryOnly: Bool
        var anchored: Bool
    }

    var rules: [Rule] = []

    /// No rules: nothing is excluded.
    public init() {}

    /// Rules from lines of text (each element one line; no line breaks inside).
    public init(_ lines: [String]) {
        self.init(byteLines: lines.map { Array($0.utf8) })
    }

    /// Rules from lines of bytes.
    public init(byteLines: [[UInt8]]) {
        for line in byteLines {
            if let rule = IgnoreRules.parse(line) { rules.append(rule) }
        }
    }

    /// True when there is no rule at all (blank lines and comments do not count).
    public var isEmpty: Bool { rules.isEmpty }

    /// Appends the rules of `other` after these (later rules win).
    public mutating func append(_ other: IgnoreRules) {
        rules.append(contentsOf: other.rules)
    }

    /// The lines of a rules file (split at `\n`; a CR before it is dropped by the parser).
    /// An unreadable file is an error naming it.
    public static func lines(ofFile path: String) throws(ImportError) -> [[UInt8]] {
        let fd: Int32
        do { fd = try SystemCall.open(path, O_RDONLY) } catch {
            throw ImportError(.io, "cannot read ignore rules file \(path): \(error.reason)")
        }
        defer { SystemCall.close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            throw ImportError(.io, "cannot read ignore rules file \(path): Is a directory")
        }
        var bytes: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n: Int
            do { n = try SystemCall.read(fd, into: buffer, path: path) } catch {
                throw ImportError(.io, "cannot read ignore rules file \(path): \(error.reason)")
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
            if bytes.count > 64 << 20 {
                throw ImportError(.io, "cannot read ignore rules file \(path): larger than 64 MiB")
            }
        }
        return bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
    }

    /// Whether `path` (relative, `/`-separated) is excluded: by the last rule matching it, or
    /// because one of its parent directories is excluded.
    public func excludes(path: [UInt8], isDirectory: Bool) -> Bool {
        if rules.isEmpty { return false }
        var index = 0
        while let slash = path[index...].firstIndex(of: UInt8(ascii: "/")) {
            if decision(Array(path[..<slash]), isDirectory: true) == true { return true }
            index = slash + 1
        }
        return decision(path, isDirectory: isDirectory) ?? false
    }

    /// Whether the entry `name` (one path component) is excluded.
    public func excludes(name: [UInt8], isDirectory: Bool) -> Bool {
        if rules.isEmpty { return false }
        return decision(name, isDirectory: isDirectory) ?? false
    }

    /// The last matching rule's verdict (true = excluded), nil when no rule matches.
    func decision(_ path: [UInt8], isDirectory: Bool) -> Bool? {
        let base: ArraySlice<UInt8>
        if let slash = path.lastIndex(of: UInt8(ascii: "/")) { base = path[(slash + 1)...] } else { base = path[...] }
        for rule in rules.reversed() {
            if rule.directoryOnly && !isDirectory { continue }
            var matcher = GlobMatcher(pattern: rule.pattern, text: rule.anchored ? path[...] : base)
            if matcher.matches() { return !rule.negated }
        }
        return nil
    }

    /// One line → one rule, or nil for blank lines and comments.
    static func parse(_ raw: [UInt8]) -> Rule? {
        var line = raw[...]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        if line.first == UInt8(ascii: "#") { return nil }
        line = trimTrailingSpaces(line)
        var negated = false
        if line.first == UInt8(ascii: "!") {
            negated = true
            line = line.dropFirst()
        }
        var directoryOnly = false
        if line.last == UInt8(ascii: "/") && !endsInEscape(line.dropLast()) {
            directoryOnly = true
            line = line.dropLast()
        }
        let anchored = line.contains(UInt8(ascii: "/"))
        if line.first == UInt8(ascii: "/") { line = line.dropFirst() }
        if line.isEmpty { return nil }
        return Rule(pattern: Array(line), negated: negated, directoryOnly: directoryOnly, anchored: anchored)
    }

    /// Drops trailing spaces that are not escaped with a backslash (git's `trim_trailing_spaces`).
    static func trimTrailingSpaces(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var end = line.endIndex
        var index = line.startIndex
        var spaceRun: Int? = nil
        while index < line.endIndex {
            let byte = line[index]
            if byte == UInt8(ascii: " ") {
                if spaceRun == nil { spaceRun = index }
                index += 1
            } else {
                spaceRun = nil
                index += byte == UInt8(ascii: "\\") && index + 1 < line.endIndex ? 2 : 1
            }
        }
        if let spaceRun { end = spaceRun }
        return line[line.startIndex..<end]
    }

    /// True when `text` ends in an odd run of backslashes (its next character is escaped).
    static func endsInEscape(_ text: ArraySlice<UInt8>) -> Bool {
        var count = 0
        var index = text.endIndex
        while index > text.startIndex && text[index - 1] == UInt8(ascii: "\\") {
            count += 1
            index -= 1
        }
        return count % 2 == 1
    }
}

/// git's wildmatch with `WM_PATHNAME`, on bytes: see `IgnoreRules`. Failed (pattern, text)
/// positions are remembered, so any pattern runs in O(pattern × text²).
struct GlobMatcher {
    let pattern: [UInt8]
    let text: ArraySlice<UInt8>
    private var failed: Set<Int> = []

    init(pattern: [UInt8], text: ArraySlice<UInt8>) {
        self.pattern = pattern
        self.text = text
    }

    static let slash = UInt8(ascii: "/")

    mutating func matches() -> Bool {
        match(0, text.startIndex)
    }

    private mutating func match(_ start: Int, _ from: Int) -> Bool {
        let key = start &* (text.count + 1) &+ (from - text.startIndex)
        if failed.contains(key) { return false }
        let result = matchUncached(start, from)
        if !result { failed.insert(key) }
        return result
    }

    private mutating func matchUncached(_ start: Int, _ from: Int) -> Bool {
        var p = start
        var t = from
        let end = text.endIndex
        while p < pattern.count {
            let c = pattern[p]
            switch c {
            case UInt8(ascii: "\\"):
                // A trailing backslash is invalid and never matches.
                guard p + 1 < pattern.count, t < end, text[t] == pattern[p + 1] else { return false }
                p += 2
                t += 1
            case UInt8(ascii: "?"):
                guard t < end, text[t] != Self.slash else { return false }
                p += 1
                t += 1
            case UInt8(ascii: "["):
                guard t < end, text[t] != Self.slash,
                      let (matched, next) = GlobMatcher.bracket(pattern, at: p, byte: text[t]), matched
                else { return false }
                p = next
                t += 1
            case UInt8(ascii: "*"):
                var q = p
                while q < pattern.count && pattern[q] == UInt8(ascii: "*") { q += 1 }
                let boundedBefore = p == 0 || pattern[p - 1] == Self.slash
                let boundedAfter = q == pattern.count || pattern[q] == Self.slash
                if q - p >= 2 && boundedBefore && boundedAfter {
                    // `**` as a whole component.
                    if q == pattern.count { return true }  // trailing `/**`: everything inside
                    // `**/`: zero or more leading directories.
                    if match(q + 1, t) { return true }
                    var i = t
                    while i < end {
                        if text[i] == Self.slash && match(q + 1, i + 1) { return true }
                        i += 1
                    }
                    return false
                }
                // `*`: any run without `/`.
                if q == pattern.count { return !text[t...].contains(Self.slash) }
                var i = t
                while true {
                    if match(q, i) { return true }
                    if i == end || text[i] == Self.slash { return false }
                    i += 1
                }
            default:
                guard t < end, text[t] == c else { return false }
                p += 1
                t += 1
            }
        }
        return t == end
    }

    /// The bracket expression starting at `pattern[start] == "["`: whether `byte` is in it and
    /// the index after its `]`; nil when it is malformed (unterminated, unknown class), which
    /// never matches.
    static func bracket(_ pattern: [UInt8], at start: Int, byte: UInt8) -> (Bool, Int)? {
        var p = start + 1
        var negated = false
        if p < pattern.count && (pattern[p] == UInt8(ascii: "!") || pattern[p] == UInt8(ascii: "^")) {
            negated = true
            p += 1
        }
        var matched = false
        var first = true
        while true {
            guard p < pattern.count else { return nil }
            var c = pattern[p]
            if c == UInt8(ascii: "]") && !first { p += 1; break }
            first = false
            if c == UInt8(ascii: "[") && p + 1 < pattern.count && pattern[p + 1] == UInt8(ascii: ":") {
                // POSIX class `[:name:]`.
                var q = p + 2
                while q + 1 < pattern.count && !(pattern[q] == UInt8(ascii: ":") && pattern[q + 1] == UInt8(ascii: "]")) { q += 1 }
                guard q + 1 < pattern.count, let inClass = posixClass(pattern[(p + 2)..<q], byte) else { return nil }
                if inClass { matched = true }
                p = q + 2
                continue
            }
            if c == UInt8(ascii: "\\") {
                p += 1
                guard p < pattern.count else { return nil }
                c = pattern[p]
            }
            p += 1
            // A range `c-d` (a `-` before the closing `]` is a literal).
            if p + 1 < pattern.count && pattern[p] == UInt8(ascii: "-") && pattern[p + 1] != UInt8(ascii: "]") {
                var high = pattern[p + 1]
                p += 2
                if high == UInt8(ascii: "\\") {
                    guard p < pattern.count else { return nil }
                    high = pattern[p]
                    p += 1
                }
                if c <= byte && byte <= high { matched = true }
            } else if c == byte {
                matched = true
            }
        }
        return (matched != negated, p)
    }

    /// ASCII POSIX character classes; nil for an unknown name.
    static func posixClass(_ name: ArraySlice<UInt8>, _ byte: UInt8) -> Bool? {
        let isUpper = byte >= 0x41 && byte <= 0x5A
        let isLower = byte >= 0x61 && byte <= 0x7A
        let isDigit = byte >= 0x30 && byte <= 0x39
        let isGraph = byte > 0x20 && byte < 0x7F
        switch String(decoding: name, as: UTF8.self) {
        case "alnum": return isUpper || isLower || isDigit
        case "alpha": return isUpper || isLower
        case "blank": return byte == 0x20 || byte == 0x09
        case "cntrl": return byte < 0x20 || byte == 0x7F
        case "digit": return isDigit
        case "graph": return isGraph
        case "lower": return isLower
        case "print": return isGraph || byte == 0x20
        case "punct": return isGraph && !(isUpper || isLower || isDigit)
        case "space": return byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
        case "upper": return isUpper
        case "xdigit": return isDigit || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
        default: return nil
        }
    }
}
