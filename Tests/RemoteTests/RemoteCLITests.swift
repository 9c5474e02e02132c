import Testing
import Foundation
import Multiformats
import Remote
import CairnTestSupport

/// `cairn push`, `cairn pin remote` and the interrupt and credential paths through the binary.
@Suite struct RemoteCLITests {
    @Test func pushJSONThenRemotePins() async throws {
        let layer = try LocalLayer("cli-push")
        defer { layer.remove() }
        let tree = layer.directory.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        for (name, bytes) in layerVersions().v1 { try Data(bytes).write(to: tree.appendingPathComponent(name)) }
        let home = layer.directory.appendingPathComponent("home").path
        let node = KuboTestNode()
        try await node.serve { base in
            let push = try await runCairn(["push", tree.path, "--to", base, "--pin-name", "ci", "--json", "--raw-leaves", "--cid-version", "1"],
                                          environment: ["CAIRN_HOME": home])
            #expect(push.status == 0, "\(push.stderr)")
            let summary = try JSONSerialization.jsonObject(with: push.stdout) as? [String: Any]
            let root = try CID(try #require(summary?["Root"] as? String))
            #expect(summary?["UploadedBlocks"] as? Int == node.uploaded.first?.blocks)
            #expect(node.firstMissing(below: root) == nil)
            #expect(node.pins.map(\.name) == ["ci"])
            let ls = try await runCairn(["pin", "remote", "ls", "--name", "ci", "--from", base])
            #expect(ls.stdoutText == "\(root) recursive ci\n")
            let rm = try await runCairn(["pin", "remote", "rm", "--name", "ci", "--from", base])
            #expect(rm.status == 0)
            #expect(node.pins.isEmpty)
        }
    }

    @Test func wrongCredentialsExitOne() async throws {
        let node = KuboTestNode()
        node.requiredAuthorization = "Basic " + Data("alice:right".utf8).base64EncodedString()
        try await node.serve { base in
            let run = try await runCairn(["pin", "remote", "ls", "--name", "x", "--from", base, "--api-auth", "basic:alice:wrong"])
            #expect(run.status == 1)
            #expect(run.stderr.hasPrefix("Error: ") && run.stderr.contains("refused the credentials"))
            #expect(!run.stderr.contains("wrong"))
            let usage = try await runCairn(["push", "x", "--to", "gateway+" + base])
            #expect(usage.status == 64)
            let negative = try await runCairn(["push", "x", "--to", base, "--list-limit", "-1"])
            #expect(negative.status == 64 && negative.stderr.contains("--list-limit"))
        }
    }

    /// SIGINT while the remote does not answer: exit 130, one line, nothing half-done.
    @Test(arguments: ["push", "fetch"])
    func interrupted(command: String) async throws {
        let layer = try LocalLayer("cli-interrupt")
        defer { layer.remove() }
        let root = try layer.add("t", ["f": SplitMix64.bytes(seed: 31, count: 20_000)])
        let node = KuboTestNode()
        node.hang = true
        try await node.serve { base in
            defer { node.hang = false }
            let binary = try #require(CairnProcess.binary)
            let process = Process()
            process.executableURL = binary
            process.arguments = command == "push"
                ? ["push", root.description, "--to", base, "--store", layer.directory.path + "/store"]
                : ["fetch", root.description, "--from", base, "--store", layer.directory.path + "/fetched"]
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = Pipe()
            try process.run()
            while node.callLog.isEmpty && process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            process.interrupt()
            let status: Int32 = await withCheckedContinuation { continuation in
                Thread { process.waitUntilExit(); continuation.resume(returning: process.terminationStatus) }.start()
            }
            #expect(status == 130)
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(text == "Error: interrupted\n")
        }
    }

    /// An output that cannot be made (its folder missing) is refused before anything is
    /// fetched: nothing asked of the node, nothing stored, nothing pinned.
    @Test func anUnwritableOutputIsRefusedFirst() async throws {
        let layer = try LocalLayer("cli-output")
        defer { layer.remove() }
        let root = try layer.add("t", ["f": SplitMix64.bytes(seed: 32, count: 20_000)])
        let node = KuboTestNode()
        try await node.serve { base in
            let fetched = layer.directory.path + "/fetched"
            for output in [["-o", layer.directory.path + "/absent/out"], ["--car", layer.directory.path + "/absent/out.car"]] {
                let run = try await runCairn(["fetch", root.description, "--from", base, "--store", fetched] + output)
                #expect(run.status == 1 && run.stderr.contains("is not a directory"), "\(run.stderr)")
            }
            #expect(node.callLog.isEmpty, "\(node.callLog)")
            #expect(!FileManager.default.fileExists(atPath: fetched + "/index.sqlite"))
            // A one-character name in the current folder (Foundation's path code trapped on it).
            let here = layer.directory.appendingPathComponent("here")
            try FileManager.default.createDirectory(at: here, withIntermediateDirectories: true)
            let short = try CairnProcess.run(["fetch", root.description, "--from", base, "--store", fetched, "-o", "x"], currentDirectory: here.path)
            #expect(short.status == 1 && short.stderr.hasPrefix("Error: "), "\(short.stderr)")  // the test node holds none of its blocks
            #expect(!FileManager.default.fileExists(atPath: here.appendingPathComponent("x").path))
        }
    }
}
