import Blocks
import Foundation
import Multiformats
import Testing
import CairnTestSupport

/// Clients no one here wrote, against the gateway on a loopback port: the PyPI package
/// ipfsspec 0.6.0 (fsspec over the trustless gateway: CAR `dag-scope=block` for ls/info, plain
/// GETs for file bytes), and curl for the raw protocol details.
@Suite(.enabled(if: VenvPython.isAvailable, "needs the project's Python venv (make venv)"))
struct GatewayClientTests {
    static let script = """
        import json, os, sys
        os.environ["IPFS_GATEWAY"] = "http://" + sys.argv[1]
        import fsspec
        fs = fsspec.filesystem("ipfs")
        root = sys.argv[2]
        with fsspec.open(f"ipfs://{root}/subdir/multiblock.txt", "rb") as f:
            multiblock = f.read()
        info = fs.info(f"{root}/subdir/multiblock.txt")
        print(json.dumps({
            "ascii": fs.cat(f"{root}/subdir/ascii.txt").hex(),
            "multiblock": multiblock.hex(),
            "ls": sorted(e["name"].rsplit("/", 1)[-1] for e in fs.ls(f"{root}/subdir")),
            "size": info["size"], "type": info["type"],
        }))
        """

    @Test func ipfsspecReadsFiles() async throws {
        let t = GatewayConformanceTests.self
        let blocks = Dictionary(try GatewayFixtures.blocks("subdir-with-mixed-block-files.car").map { ($0.cid.description, $0.bytes) },
                                uniquingKeysWith: { a, _ in a })
        try await withGateway(cars: ["subdir-with-mixed-block-files.car"]) { gateway, _ in
            let directory = try makeTemporaryDirectory("ipfsspec")
            defer { try? FileManager.default.removeItem(at: directory) }
            let script = directory.appendingPathComponent("read.py")
            try Self.script.write(to: script, atomically: true, encoding: .utf8)
            let run = try await offCooperativePool { try VenvPython.run([script.path, gateway, t.mixed], in: directory) }
            #expect(run.status == 0, "\(run.stdout)")
            let answer = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
            #expect(answer?["ascii"] as? String == Hex.encode(blocks[t.ascii]!))
            #expect(answer?["multiblock"] as? String == Hex.encode(t.chunks.flatMap { blocks[$0]! }))
            #expect(answer?["ls"] as? [String] == ["ascii.txt", "hello.txt", "multiblock.txt"])
            #expect(answer?["size"] as? Int == 1026)  // 4 × 256 + 2 (the suite's comment on multiblock.txt)
            #expect(answer?["type"] as? String == "file")
        }
    }

    @Test func curlSeesTheHeaders() async throws {
        try await withGateway(cars: ["gateway-raw-block.car"]) { gateway, _ in
            let cid = GatewayConformanceTests.rawASCII
            let directory = try makeTemporaryDirectory("curl")
            defer { try? FileManager.default.removeItem(at: directory) }
            let headers = directory.appendingPathComponent("headers.txt")
            let url = "http://\(gateway)/ipfs/\(cid)", headersPath = headers.path
            let status = try await offCooperativePool { () -> Int32 in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                process.arguments = ["-s", "-D", headersPath, "-o", "/dev/null", "-H", "Accept: application/vnd.ipld.raw", url]
                try process.run()
                process.waitUntilExit()
                return process.terminationStatus
            }
            #expect(status == 0)
            let data = try Data(contentsOf: headers)
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\r\n").map { $0.lowercased() }
            #expect(lines.first?.hasPrefix("http/1.1 200") == true)
            for expected in ["content-type: application/vnd.ipld.raw", "content-length: 31", "x-content-type-options: nosniff",
                             "cache-control: public, max-age=29030400, immutable", "x-ipfs-path: /ipfs/\(cid)", "vary: accept"] {
                #expect(lines.contains(expected), "\(expected)")
            }
        }
    }
}

/// Runs a blocking call (a child process that talks to the test server) on a Dispatch thread:
/// blocking a cooperative-pool thread instead could starve the server's own request tasks
/// (the pool has one thread per core).
func offCooperativePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
