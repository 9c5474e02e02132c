import CairnSystem
import CairnTestSupport
import Foundation
import Testing

/// `TreeRemoval`: a tree deeper than PATH_MAX goes (Foundation's removal stops there), a
/// symlink inside is removed, never followed.
@Suite struct TreeRemovalTests {
    @Test func removesADeepTreeWithoutFollowingLinks() throws {
        let scratch = try makeTemporaryDirectory("tree-removal")
        defer { removeDeepTree(scratch) }
        let outside = scratch.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("keep\n".utf8).write(to: outside.appendingPathComponent("kept"))
        let top = scratch.appendingPathComponent("top").path
        #expect(mkdir(top, 0o755) == 0)
        var fd = open(top, O_RDONLY | O_DIRECTORY)
        for level in 0..<3000 {
            if level % 500 == 0 {
                #expect(symlinkat(outside.path, fd, "link") == 0)
                let file = openat(fd, "file", O_WRONLY | O_CREAT | O_EXCL, 0o644)
                close(file)
            }
            #expect(mkdirat(fd, "d", 0o755) == 0)
            let next = openat(fd, "d", O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
        }
        close(fd)
        #expect(TreeRemoval.remove(top) == 0)
        #expect(access(top, F_OK) != 0)
        #expect(FileManager.default.fileExists(atPath: outside.appendingPathComponent("kept").path))
        #expect(TreeRemoval.remove(top) == ENOENT)
    }
}
