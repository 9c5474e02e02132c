import CairnTestSupport
import Foundation
import Testing

import CairnSystem

/// Issue 15, item 7: `add -r` of a directory nested 2000 deep (a stack overflow before) gives
/// real Kubo's CID, and `get` writes it back with the right bytes at the bottom.
@Suite struct DeepTreeTests {
    static let depth = 2000

    /// `depth` directories named `d`, one inside the other, under `top`, with `leaf` at the bottom
    /// (made relative to descriptors, so no path is ever longer than one name).
    static func makeDeepTree(_ top: String, leaf: [UInt8]) throws {
        #expect(mkdir(top, 0o755) == 0)
        var fd = open(top, O_RDONLY | O_DIRECTORY)
        for _ in 0..<depth {
            #expect(mkdirat(fd, "d", 0o755) == 0)
            let next = openat(fd, "d", O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
        }
        let file = openat(fd, "leaf", O_WRONLY | O_CREAT | O_EXCL, 0o644)
        #expect(leaf.withUnsafeBytes { write(file, $0.baseAddress, $0.count) } == leaf.count)
        close(file)
        close(fd)
    }

    /// The bytes of `leaf` at the bottom of a tree made like `makeDeepTree`, nil if absent.
    static func readLeaf(_ top: String) -> [UInt8]? {
        var fd = open(top, O_RDONLY | O_DIRECTORY)
        for _ in 0..<depth {
            let next = openat(fd, "d", O_RDONLY | O_DIRECTORY)
            close(fd)
            guard next >= 0 else { return nil }
            fd = next
        }
        defer { close(fd) }
        let file = openat(fd, "leaf", O_RDONLY)
        guard file >= 0 else { return nil }
        defer { close(file) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { read(file, $0.baseAddress, $0.count) }
        return n >= 0 ? Array(buffer[0..<n]) : nil
    }

    @Test func addAndGetATreeNested2000Deep() throws {
        let directory = try makeTemporaryDirectory("deep")
        defer { removeDeepTree(directory) }
        let top = directory.appendingPathComponent("top").path
        let leaf = Array("at the bottom\n".utf8)
        try Self.makeDeepTree(top, leaf: leaf)
        let store = directory.appendingPathComponent("s").path

        let add = try CairnProcess.run(["add", "-r", "-Q", "--store", store, top])
        #expect(add.status == 0, "\(add.stderr)")
        let root = add.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let lines = try CairnProcess.run(["add", "-r", "-n", top]).stdoutText.split(separator: "\n")
        #expect(lines.count == Self.depth + 2, "one line per directory and the file")

        if FileManager.default.isExecutableFile(atPath: KuboReference.python.path) {
            let kubo = try KuboReference.run([top])
            if !kubo.couldNotIsolate {
                #expect(kubo.stdout.split(separator: "\t").first.map(String.init) == root, "Kubo printed: \(kubo.stdout)")
            }
        } else {
            Issue.record("no \(KuboReference.python.path): run `make venv` (the Kubo reference checks the CID)")
        }

        let out = directory.appendingPathComponent("o").path
        let get = try CairnProcess.run(["get", "--store", store, root, "-o", out])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(Self.readLeaf(out) == leaf)
    }
}
