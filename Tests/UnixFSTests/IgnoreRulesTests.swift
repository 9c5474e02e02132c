import CairnTestSupport
import Foundation
import Testing
@testable import UnixFS
@testable import Blocks

/// The gitignore matcher of `--ignore` / `--ignore-rules-path` against git's documented rules.
/// Every row cites the part of `man gitignore` (git 2.4x, section "PATTERN FORMAT" unless
/// noted) or of glob(7) / fnmatch(3) (which gitignore refers to for `*`, `?` and `[...]`) that
/// decides it. Expected values come from that text, not from running the code.
@Suite struct IgnoreRulesTests {
    struct Row: CustomStringConvertible, Sendable {
        var rules: [String]
        var path: String
        var isDirectory: Bool
        var excluded: Bool
        var source: String
        var description: String { "\(rules) vs \(path)\(isDirectory ? "/" : "") → \(excluded) (\(source))" }
    }

    static func row(_ rules: [String], _ path: String, dir: Bool = false, _ excluded: Bool, _ source: String) -> Row {
        Row(rules: rules, path: path, isDirectory: dir, excluded: excluded, source: source)
    }

    /// What a single rule's pattern matches (no parent-directory effect).
    static let patternRows: [Row] = [
        // "A blank line matches no files, so it can serve as a separator for readability."
        row([""], "a", false, "blank line"),
        row(["   "], "a", false, "blank line (spaces only: trailing spaces are ignored)"),
        // "A line starting with # serves as a comment. Put a backslash ("\") in front of the
        // first hash for patterns that begin with a hash."
        row(["#a"], "#a", false, "comment"),
        row(["\\#a"], "#a", true, "\\# escapes a leading hash"),
        row(["a#"], "a#", true, "# only starts a comment at the beginning"),
        // "Trailing spaces are ignored unless they are quoted with backslash ("\")."
        row(["a.txt   "], "a.txt", true, "trailing spaces ignored"),
        row(["a\\ "], "a ", true, "backslash-quoted trailing space kept"),
        row(["a\\ "], "a", false, "backslash-quoted trailing space kept"),
        row([" a"], "a", false, "leading spaces are part of the pattern"),
        row([" a"], " a", true, "leading spaces are part of the pattern"),
        // "An optional prefix "!" which negates the pattern; any matching file excluded by a
        // previous pattern will become included again."
        row(["*.txt", "!keep.txt"], "keep.txt", false, "! re-includes"),
        row(["*.txt", "!keep.txt"], "other.txt", true, "! re-includes only what it matches"),
        row(["!keep.txt", "*.txt"], "keep.txt", true, "last matching pattern wins (\"precedence\" in DESCRIPTION)"),
        row(["!a"], "a", false, "a lone negation excludes nothing"),
        // "Put a backslash ("\") in front of the first "!" for patterns that begin with a
        // literal "!", for example, "\!important!.txt"."
        row(["\\!important!.txt"], "!important!.txt", true, "\\! escapes a leading !"),
        // "If there is a separator at the end of the pattern then the pattern will only match
        // directories, and paths underneath it ... frotz/ matches frotz and a/frotz that is a
        // directory"
        row(["frotz/"], "frotz", dir: true, true, "trailing / matches a directory"),
        row(["frotz/"], "frotz", false, "trailing / does not match a file (or symlink)"),
        row(["frotz/"], "a/frotz", dir: true, true, "frotz/ matches a/frotz that is a directory"),
        // "If there is a separator at the beginning or middle (or both) of the pattern, then the
        // pattern is relative to the directory level of the particular .gitignore file itself.
        // Otherwise the pattern may also match at any level below the .gitignore level."
        row(["doc/frotz/"], "doc/frotz", dir: true, true, "doc/frotz/ matches doc/frotz directory"),
        row(["doc/frotz/"], "a/doc/frotz", dir: true, false, "but not a/doc/frotz directory"),
        row(["frotz"], "a/b/frotz", true, "no separator: any level"),
        // "The pattern hello.* matches any file or directory whose name begins with hello. ...
        // /hello.* ... matches hello.txt, hello.c but not a/hello.java."
        row(["hello.*"], "hello.txt", true, "hello.*"),
        row(["hello.*"], "a/hello.java", true, "hello.* at any level"),
        row(["hello.*"], "hello", false, "hello.* needs the dot"),
        row(["/hello.*"], "hello.c", true, "/hello.* at the top"),
        row(["/hello.*"], "a/hello.java", false, "/hello.* not below"),
        // "The pattern doc/frotz and /doc/frotz have the same effect in any .gitignore file."
        row(["doc/frotz"], "doc/frotz", true, "doc/frotz"),
        row(["/doc/frotz"], "doc/frotz", true, "/doc/frotz same as doc/frotz"),
        row(["doc/frotz"], "x/doc/frotz", false, "a middle separator anchors"),
        // "An asterisk "*" matches anything except a slash. ... The pattern foo/*, matches
        // foo/test.json (a regular file), foo/bar (a directory), but it does not match
        // foo/bar/hello.c"
        row(["foo/*"], "foo/test.json", true, "foo/*"),
        row(["foo/*"], "foo/bar", dir: true, true, "foo/* matches a directory"),
        row(["foo/*"], "foo/bar/hello.c", false, "* does not match a slash"),
        row(["*.log"], "debug.log", true, "*"),
        row(["*.log"], ".log", true, "* matches the empty string"),
        row(["*.log"], "debug.log.txt", false, "* is anchored at both ends of the name"),
        row(["a*b*c"], "aXXbYYc", true, "several *"),
        row(["a*b*c"], "aXXbYY", false, "several *"),
        // "The character "?" matches any one character except "/"."
        row(["?.txt"], "a.txt", true, "?"),
        row(["?.txt"], "ab.txt", false, "? is exactly one character"),
        row(["?.txt"], ".txt", false, "? is exactly one character"),
        row(["a?b"], "a/b", false, "? does not match a slash"),
        // "The range notation, e.g. [a-zA-Z], can be used to match one of the characters in a
        // range." glob(7): "[!...]" negates, "]" first in the class is literal.
        row(["[a-zA-Z].c"], "Q.c", true, "range"),
        row(["[a-zA-Z].c"], "5.c", false, "range"),
        row(["[abc].c"], "b.c", true, "set"),
        row(["[!abc].c"], "b.c", false, "[!...] negates (glob(7))"),
        row(["[!abc].c"], "d.c", true, "[!...] negates (glob(7))"),
        row(["[^abc].c"], "d.c", true, "[^...] negates (git wildmatch, as in regex)"),
        row(["[^abc].c"], "a.c", false, "[^...] negates (git wildmatch, as in regex)"),
        row(["[]]"], "]", true, "] first in a class is literal (glob(7))"),
        row(["[!]]"], "x", true, "] first after ! is literal (glob(7))"),
        row(["[a-]"], "-", true, "- last in a class is literal (glob(7))"),
        row(["[[:digit:]]x"], "7x", true, "character class [:digit:] (glob(7))"),
        row(["[[:digit:]]x"], "ax", false, "character class [:digit:] (glob(7))"),
        row(["a[/]b"], "a/b", false, "a class never matches a slash (fnmatch FNM_PATHNAME)"),
        row(["[abc"], "[abc", false, "an unterminated class matches nothing (git wildmatch)"),
        // Backslash quotes the next character (fnmatch(3) without FNM_NOESCAPE).
        row(["\\*.txt"], "*.txt", true, "\\* is a literal star"),
        row(["\\*.txt"], "a.txt", false, "\\* is a literal star"),
        row(["\\?"], "?", true, "\\? is a literal question mark"),
        row(["\\[a]"], "[a]", true, "\\[ is a literal bracket"),
        // Two consecutive asterisks:
        // "A leading "**" followed by a slash means match in all directories. For example,
        // "**/foo" matches file or directory "foo" anywhere, the same as pattern "foo".
        // "**/foo/bar" matches file or directory "bar" anywhere that is directly under
        // directory "foo"."
        row(["**/foo"], "foo", true, "**/foo"),
        row(["**/foo"], "a/b/foo", true, "**/foo anywhere"),
        row(["**/foo/bar"], "x/foo/bar", true, "**/foo/bar"),
        row(["**/foo/bar"], "foo/bar", true, "**/foo/bar at the top"),
        row(["**/foo/bar"], "foo/x/bar", false, "bar must be directly under foo"),
        // "A trailing "/**" matches everything inside. For example, "abc/**" matches all files
        // inside directory "abc" ... with infinite depth."
        row(["abc/**"], "abc/x", true, "abc/**"),
        row(["abc/**"], "abc/x/y/z", true, "abc/** infinite depth"),
        row(["abc/**"], "abc", dir: true, false, "abc/** matches inside, not abc itself"),
        // "A slash followed by two consecutive asterisks then a slash matches zero or more
        // directories. For example, "a/**/b" matches "a/b", "a/x/b", "a/x/y/b" and so on."
        row(["a/**/b"], "a/b", true, "a/**/b zero directories"),
        row(["a/**/b"], "a/x/b", true, "a/**/b one"),
        row(["a/**/b"], "a/x/y/b", true, "a/**/b two"),
        row(["a/**/b"], "a/x/y/c", false, "a/**/b"),
        // "Other consecutive asterisks are considered regular asterisks, as described above."
        row(["a**b"], "aXb", true, "** inside a name is *"),
        row(["a**b"], "a/b", false, "** inside a name is * (no slash)"),
        // The trailing-space rule still lets a trailing / mark a directory pattern.
        row(["build/  "], "build", dir: true, true, "trailing spaces after /"),
        row(["build/  "], "build", false, "trailing spaces after /"),
        // CR before the line end is dropped (git reads CRLF .gitignore files).
        row(["*.o\r"], "x.o", true, "CRLF line"),
        // Bytes, not characters: a UTF-8 name matches itself, `?` is one byte.
        row(["café"], "café", true, "UTF-8 literal"),
        row(["caf??"], "café", true, "é is two bytes"),
    ]

    @Test(arguments: patternRows)
    func patterns(_ row: Row) {
        let rules = IgnoreRules(row.rules)
        let path = Array(row.path.utf8)
        #expect((rules.decision(path, isDirectory: row.isDirectory) ?? false) == row.excluded, "\(row)")
    }

    /// Whole paths: "It is not possible to re-include a file if a parent directory of that
    /// file is excluded." (PATTERN FORMAT, on "!"), and the EXAMPLES section's
    /// "exclude everything except directory foo/bar".
    @Test func parentDirectories() {
        let rules = IgnoreRules(["/*", "!/foo", "/foo/*", "!/foo/bar"])
        #expect(rules.excludes(path: Array("foo/bar/file".utf8), isDirectory: false) == false)
        #expect(rules.excludes(path: Array("foo/bar".utf8), isDirectory: true) == false)
        #expect(rules.excludes(path: Array("foo/other".utf8), isDirectory: false) == true)
        #expect(rules.excludes(path: Array("top.txt".utf8), isDirectory: false) == true)
        // foo/* excludes the directory foo/baz, so a file in it stays out even though the
        // pattern itself does not match foo/baz/hello.c.
        let star = IgnoreRules(["foo/*", "!hello.c"])
        #expect(star.excludes(path: Array("foo/baz/hello.c".utf8), isDirectory: false) == true)
        #expect(star.excludes(path: Array("foo/hello.c".utf8), isDirectory: false) == false)
        let dirs = IgnoreRules(["build/", "!build/keep"])
        #expect(dirs.excludes(path: Array("build/keep".utf8), isDirectory: false), "parent excluded: cannot re-include")
    }

    /// What `cairn add` asks: one entry name at a time (Kubo's filter matches
    /// `fileInfo.Name()`, with a `/` appended for directories).
    @Test func entryNames() {
        let rules = IgnoreRules(["*.tmp", "/build", "cache/", "a/b", "!keep.tmp"])
        #expect(rules.excludes(name: Array("x.tmp".utf8), isDirectory: false))
        #expect(!rules.excludes(name: Array("keep.tmp".utf8), isDirectory: false))
        #expect(rules.excludes(name: Array("build".utf8), isDirectory: true), "an anchored rule matches the name at any depth")
        #expect(rules.excludes(name: Array("cache".utf8), isDirectory: true))
        #expect(!rules.excludes(name: Array("cache".utf8), isDirectory: false), "dir-only rule, file or symlink")
        #expect(!rules.excludes(name: Array("b".utf8), isDirectory: false), "a rule with an inner / never matches one name")
        #expect(!IgnoreRules([]).excludes(name: Array("x".utf8), isDirectory: false))
        #expect(IgnoreRules(["", "# only a comment", "   "]).isEmpty)
    }

    /// Many stars against a long name: no match. How fast that is (failed positions are
    /// remembered) is measured by Benchmarks/ignore-rules, not asserted here.
    @Test func pathologicalPatternDoesNotMatch() {
        let rules = IgnoreRules([String(repeating: "*a", count: 30) + "b"])
        #expect(!rules.excludes(name: Array(repeating: UInt8(ascii: "a"), count: 250), isDirectory: false))
        #expect(rules.excludes(name: Array(repeating: UInt8(ascii: "a"), count: 250) + [UInt8(ascii: "b")], isDirectory: false))
    }

    /// Rules files: lines split at LF, CRLF accepted, an unreadable file is an error naming it.
    @Test func rulesFile() throws {
        let directory = try makeTemporaryDirectory("ignore-file")
        defer { TreeFixtures.remove(directory) }
        let file = directory.appendingPathComponent("rules")
        try TreeFixtures.write(Array("# comment\r\n*.o\r\n\r\n!keep.o\nbuild/".utf8), to: file)
        let rules = IgnoreRules(byteLines: try IgnoreRules.lines(ofFile: file.path))
        #expect(rules.excludes(name: Array("x.o".utf8), isDirectory: false))
        #expect(!rules.excludes(name: Array("keep.o".utf8), isDirectory: false))
        #expect(rules.excludes(name: Array("build".utf8), isDirectory: true))
        let missing = directory.appendingPathComponent("missing").path
        let error = #expect(throws: ImportError.self) { try IgnoreRules.lines(ofFile: missing) }
        #expect(error?.description.contains(missing) == true)
        #expect(error?.description.contains("\n") == false)
        #expect(throws: ImportError.self) { try IgnoreRules.lines(ofFile: directory.path) }
    }
}
