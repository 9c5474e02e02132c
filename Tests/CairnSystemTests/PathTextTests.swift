import CairnSystem
import Testing

/// `PathText` (Foundation's `NSString.deletingLastPathComponent` traps on "x" here: a hostile
/// pass found `fetch -o x` killed by it).
@Suite struct PathTextTests {
    @Test(arguments: [
        ("x", ".", "x"), ("ab", ".", "ab"), ("a/b", "a", "b"), ("/x", "/", "x"), ("/", "/", "/"),
        ("a/b/", "a", "b"), ("a//b", "a", "b"), ("./x", ".", "x"), ("/a/b/c", "/a/b", "c"), ("..", ".", ".."),
    ])
    func parentAndLastName(path: String, parent: String, last: String) {
        #expect(PathText.parent(of: path) == parent, "\(path)")
        #expect(PathText.lastComponent(of: path) == last, "\(path)")
    }
}
