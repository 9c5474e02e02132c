import Engine
import Testing

/// `IPFSPath` cleans as boxo's `path.NewPath` does (Go's `path.Clean` after Kubo's
/// `cmdutils.PathOrCidPath` puts `/ipfs/` before a path that lacks it). Expected values are Go's
/// `path.Clean` of `/ipfs/` + the path, worked out by its rules (empty and `.` segments go, `..`
/// removes the one before it and stays at the top).
@Suite struct IPFSPathTests {
    @Test(arguments: [
        ("C", "C", [String]()),
        ("/ipfs/C", "C", []),
        ("C/a/b", "C", ["a", "b"]),
        ("C/a/../a/x", "C", ["a", "x"]),
        ("C/./a//b/", "C", ["a", "b"]),
        ("/ipfs//C/x", "C", ["x"]),
        ("//ipfs/C", "C", []),
        ("C/../D/x", "D", ["x"]),
        ("ipfs/C", "ipfs", ["C"]),
    ])
    func cleans(text: String, root: String, names: [String]) throws {
        let path = try IPFSPath(parsing: text)
        #expect(path.root == root && path.names == names, "\(text)")
    }

    @Test(arguments: ["", "/", "/ipfs", "/ipfs/", "C/..", "C/../..", "/ipns/k51", "/IPFS/C", "/C/x", "/ipfs/C/../.."])
    func leavesNoRoot(text: String) {
        #expect(throws: IPFSPath.Failure.noRoot) { try IPFSPath(parsing: text) }
    }
}
