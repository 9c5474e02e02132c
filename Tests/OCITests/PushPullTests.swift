import CairnTestSupport
import Foundation
import Testing

/// `cairn oci push` and `cairn oci pull` against a `cairn serve` on loopback (spec/oci.md §7,
/// §8), with skopeo judging what the pull wrote.
@Suite(.serialized) struct PushPullTests {
    /// Push, pull as a directory and as an oci-archive: the pulled layout is the original file
    /// for file, and skopeo inspects and copies it (verifying every digest).
    @Test(arguments: ["v1", "v1zstd", "multi"])
    func roundTrip(name: String) async throws {
        let fixtures = try Fixtures.get()
        let scratch = try makeTemporaryDirectory("oci-roundtrip")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let (layout, reference) = try Self.layout(name, fixtures: fixtures, scratch: scratch)
        try Self.withServer(scratch) { server in
            let push = try CairnProcess.run(["oci", "push", layout.path, "--to", server.url, "--pin-name", "img", "--json"],
                                            environment: ["CAIRN_HOME": scratch.appendingPathComponent("pusher").path])
            #expect(push.status == 0, "\(push.stderr)")
            let summary = try #require(try JSONSerialization.jsonObject(with: push.stdout) as? [String: Any])
            let root = try #require(summary["Root"] as? String)
            #expect(summary["UploadedBlocks"] as? Int == summary["DagBlocks"] as? Int)
            #expect(try Self.serverPins(server, name: "img") == [root])
            // The published copy: a layout too, every descriptor naming its file.
            let published = scratch.appendingPathComponent("published")
            let fetch = try CairnProcess.run(["fetch", root, "--from", server.url, "-o", published.path],
                                             environment: ["CAIRN_HOME": scratch.appendingPathComponent("fetcher").path])
            #expect(fetch.status == 0, "\(fetch.stderr)")
            let index = try JSONSerialization.jsonObject(with: Data(contentsOf: published.appendingPathComponent("index.json"))) as! [String: Any]
            for descriptor in index["manifests"] as! [[String: Any]] {
                #expect((descriptor["urls"] as? [String])?.first?.hasPrefix("ipfs://bafy") == true)
            }
            try Tool.must("skopeo", ["inspect", "oci:\(published.path):\(reference)"])

            let home = scratch.appendingPathComponent("puller").path
            let pulled = scratch.appendingPathComponent("pulled")
            let pull = try CairnProcess.run(["oci", "pull", root, "--from", server.url, "-o", pulled.path], environment: ["CAIRN_HOME": home])
            #expect(pull.status == 0, "\(pull.stderr)")
            #expect(try Self.files(pulled) == Self.files(layout))
            try Tool.must("skopeo", ["inspect", "oci:\(pulled.path):\(reference)"])
            try Tool.must("skopeo", ["--insecure-policy", "copy", "--all", "oci:\(pulled.path):\(reference)",
                                     "oci:\(scratch.appendingPathComponent("elsewhere").path):\(reference)"])

            let archive = scratch.appendingPathComponent("pulled.tar")
            let pullArchive = try CairnProcess.run(["oci", "pull", root, "--from", server.url, "-o", archive.path, "--archive"],
                                                   environment: ["CAIRN_HOME": home])
            #expect(pullArchive.status == 0, "\(pullArchive.stderr)")
            try Tool.must("skopeo", ["inspect", "oci-archive:\(archive.path):\(reference)"])
            let unpacked = scratch.appendingPathComponent("unpacked")
            try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
            try Tool.must("tar", ["-xf", archive.path, "-C", unpacked.path])
            #expect(try Self.files(unpacked) == Self.files(layout))
        }
    }

    /// A node that publishes a layout with extra entries (a `blobs/evil` symlink to a local
    /// folder, an `index.json.restore` symlink to a local file, large unnamed files) gets only
    /// the layout written: oci-layout, index.json and the blobs it names, nothing followed,
    /// nothing outside -o touched. A named blob that is a symlink (to a local copy with the right
    /// digest) is refused, and nothing is left at -o.
    @Test func hostilePublishedLayouts() async throws {
        let fixtures = try Fixtures.get()
        let scratch = try makeTemporaryDirectory("oci-hostile")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let fm = FileManager.default
        let (layout, _) = try Self.layout("v1", fixtures: fixtures, scratch: scratch)
        let victim = scratch.appendingPathComponent("victim")
        try fm.createDirectory(at: victim.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("keep me\n".utf8).write(to: victim.appendingPathComponent("important.txt"))
        try Data("keep me too\n".utf8).write(to: victim.appendingPathComponent("sub/inner.txt"))
        let home = ["CAIRN_HOME": scratch.appendingPathComponent("puller").path]
        try Self.withServer(scratch) { server in
            let push = try CairnProcess.run(["oci", "push", layout.path, "--to", server.url, "--pin-name", "img"],
                                            environment: ["CAIRN_HOME": scratch.appendingPathComponent("pusher").path])
            let root = try #require(push.stdoutText.split(whereSeparator: \.isWhitespace).first.map(String.init), "\(push.stderr)")
            let published = scratch.appendingPathComponent("published")
            let fetch = try CairnProcess.run(["fetch", root, "--from", server.url, "-o", published.path],
                                             environment: ["CAIRN_HOME": scratch.appendingPathComponent("fetcher").path])
            #expect(fetch.status == 0, "\(fetch.stderr)")

            // Extra entries around a genuine published layout.
            let extra = scratch.appendingPathComponent("extra")
            try fm.copyItem(at: published, to: extra)
            try fm.createSymbolicLink(atPath: extra.appendingPathComponent("blobs/evil").path, withDestinationPath: victim.path)
            try fm.createSymbolicLink(atPath: extra.appendingPathComponent("index.json.restore").path,
                                      withDestinationPath: victim.appendingPathComponent("important.txt").path)
            try Data(count: 8 << 20).write(to: extra.appendingPathComponent("blobs/sha256/" + String(repeating: "0", count: 64)))
            try Data(count: 8 << 20).write(to: extra.appendingPathComponent("unnamed.bin"))
            let extraPush = try CairnProcess.run(["push", extra.path, "--to", server.url], environment: home)
            let extraRoot = try #require(extraPush.stdoutText.split(separator: " ").first.map(String.init), "\(extraPush.stderr)")
            let pulled = scratch.appendingPathComponent("pulled")
            let pull = try CairnProcess.run(["oci", "pull", extraRoot, "--from", server.url, "-o", pulled.path], environment: home)
            #expect(pull.status == 0, "\(pull.stderr)")
            #expect(try Self.files(pulled) == Self.files(layout))
            let everything = try fm.subpathsOfDirectory(atPath: pulled.path).filter { !$0.hasPrefix("blobs/sha256/") || $0.count != 77 }
            #expect(Set(everything) == ["oci-layout", "index.json", "blobs", "blobs/sha256"], "\(everything)")
            #expect(try String(contentsOf: victim.appendingPathComponent("important.txt"), encoding: .utf8) == "keep me\n")
            #expect(fm.fileExists(atPath: victim.appendingPathComponent("sub/inner.txt").path))

            // A named layer that is a symlink to a local file with the right bytes.
            let linked = scratch.appendingPathComponent("linked")
            try fm.copyItem(at: published, to: linked)
            let manifestIndex = try JSONSerialization.jsonObject(with: Data(contentsOf: layout.appendingPathComponent("index.json"))) as! [String: Any]
            let manifestDigest = ((manifestIndex["manifests"] as! [[String: Any]])[0]["digest"] as! String).split(separator: ":")[1]
            let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: layout.appendingPathComponent("blobs/sha256/\(manifestDigest)"))) as! [String: Any]
            let layer = String(((manifest["layers"] as! [[String: Any]])[0]["digest"] as! String).split(separator: ":")[1])
            let local = scratch.appendingPathComponent("local-layer")
            try fm.copyItem(at: layout.appendingPathComponent("blobs/sha256/\(layer)"), to: local)
            let target = linked.appendingPathComponent("blobs/sha256/\(layer)")
            try fm.removeItem(at: target)
            try fm.createSymbolicLink(atPath: target.path, withDestinationPath: local.path)
            let linkedPush = try CairnProcess.run(["push", linked.path, "--to", server.url], environment: home)
            let linkedRoot = try #require(linkedPush.stdoutText.split(separator: " ").first.map(String.init), "\(linkedPush.stderr)")
            let refused = scratch.appendingPathComponent("refused")
            let pullLinked = try CairnProcess.run(["oci", "pull", linkedRoot, "--from", server.url, "-o", refused.path], environment: home)
            #expect(pullLinked.status == 1 && pullLinked.stderr.contains("is not a regular file"), "\(pullLinked.stderr)")
            #expect(!fm.fileExists(atPath: refused.path))
            #expect(try fm.contentsOfDirectory(atPath: scratch.path).allSatisfy { !$0.contains("cairn-pull") })

            // A named layer whose published bytes are 8 MiB of zeros: checked before it is
            // written (size first), so nothing of it reaches the disk.
            let padded = scratch.appendingPathComponent("padded")
            try fm.copyItem(at: published, to: padded)
            try fm.removeItem(at: padded.appendingPathComponent("blobs/sha256/\(layer)"))
            try Data(count: 8 << 20).write(to: padded.appendingPathComponent("blobs/sha256/\(layer)"))
            let paddedPush = try CairnProcess.run(["push", padded.path, "--to", server.url], environment: home)
            let paddedRoot = try #require(paddedPush.stdoutText.split(separator: " ").first.map(String.init), "\(paddedPush.stderr)")
            let pullPadded = try CairnProcess.run(["oci", "pull", paddedRoot, "--from", server.url, "-o", refused.path], environment: home)
            #expect(pullPadded.status == 1 && pullPadded.stderr.contains("the published blob has more than"), "\(pullPadded.stderr)")
            #expect(!fm.fileExists(atPath: refused.path))
        }
    }

    /// `--replace` three times under one name: one root left, and gc frees exactly the blocks
    /// only the older versions used.
    @Test func replaceThreeTimesThenGC() async throws {
        let fixtures = try Fixtures.get()
        let scratch = try makeTemporaryDirectory("oci-replace")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try Self.withServer(scratch) { server in
            var last: [String: Any] = [:]
            for layout in [fixtures.v1, fixtures.v2, fixtures.v1zstd] {
                let push = try CairnProcess.run(["oci", "push", layout.path, "--to", server.url, "--pin-name", "cache", "--replace", "--json"],
                                                environment: ["CAIRN_HOME": scratch.appendingPathComponent("pusher").path])
                #expect(push.status == 0, "\(push.stderr)")
                last = try #require(try JSONSerialization.jsonObject(with: push.stdout) as? [String: Any])
            }
            let root = try #require(last["Root"] as? String)
            #expect(try Self.serverPins(server, name: "cache") == [root])
            let before = try Self.serverBlocks(server)
            let gc = try Tool.must("curl", ["-sf", "-X", "POST", "\(server.url)/api/v0/repo/gc"])
            let freed = String(decoding: gc.stdout, as: UTF8.self).split(separator: "\n").count
            let after = try Self.serverBlocks(server)
            let dagBlocks = try #require(last["DagBlocks"] as? Int)
            #expect(after == dagBlocks)
            #expect(before - after == freed && freed > 0)
        }
    }

    /// A layout that fails verification sends nothing.
    @Test func tamperedLayoutPushesNothing() async throws {
        let fixtures = try Fixtures.get()
        let scratch = try makeTemporaryDirectory("oci-tampered-push")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let copy = try LayoutCopy(of: fixtures.v1, label: "tampered-push")
        defer { copy.remove() }
        let layer = copy.blobURL(try copy.layerDigest())
        var bytes = [UInt8](try Data(contentsOf: layer))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: layer)
        try Self.withServer(scratch) { server in
            let home = scratch.appendingPathComponent("pusher")
            let push = try CairnProcess.run(["oci", "push", copy.root.path, "--to", server.url, "--pin-name", "x"],
                                            environment: ["CAIRN_HOME": home.path])
            #expect(push.status == 1)
            #expect(push.stderr.hasPrefix("Error: ") && push.stderr.contains("digest"))
            #expect(try Self.serverBlocks(server) == 0)
            #expect(try storeCounts(home: home).blocks == 0)
        }
    }

    /// A server that serves a damaged block: the pull fails and leaves nothing at -o.
    @Test func corruptedServerBlockLeavesNothing() async throws {
        let fixtures = try Fixtures.get()
        let scratch = try makeTemporaryDirectory("oci-corrupt-pull")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let store = scratch.appendingPathComponent("server-store")
        var root = ""
        try Self.withServer(scratch) { server in
            let push = try CairnProcess.run(["oci", "push", fixtures.v1.path, "--to", server.url, "--pin-name", "x"],
                                            environment: ["CAIRN_HOME": scratch.appendingPathComponent("pusher").path])
            #expect(push.status == 0, "\(push.stderr)")
            root = push.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // Flip one byte in the middle of the largest pack file (a layer's leaf).
        let packs = FileManager.default.enumerator(at: store, includingPropertiesForKeys: [.fileSizeKey])!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "pack" }
        let pack = try #require(packs.max { try! $0.resourceValues(forKeys: [.fileSizeKey]).fileSize! < $1.resourceValues(forKeys: [.fileSizeKey]).fileSize! })
        var bytes = [UInt8](try Data(contentsOf: pack))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: pack)
        try Self.withServer(scratch) { server in
            let pulled = scratch.appendingPathComponent("pulled")
            let pull = try CairnProcess.run(["oci", "pull", root, "--from", server.url, "-o", pulled.path],
                                            environment: ["CAIRN_HOME": scratch.appendingPathComponent("puller").path])
            #expect(pull.status == 1)
            #expect(pull.stderr.hasPrefix("Error: "))
            #expect(!FileManager.default.fileExists(atPath: pulled.path))
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.contains("cairn-pull") }.isEmpty)
        }
    }

    /// Usage and refusals: no --pin-name (64), a legacy docker-archive (nothing sent), an
    /// existing -o, a root that is not a published layout (nothing left at -o).
    @Test func refusals() async throws {
        let fixtures = try Fixtures.get()
        let scratch = try makeTemporaryDirectory("oci-refusals")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let home = ["CAIRN_HOME": scratch.appendingPathComponent("home").path]
        try Self.withServer(scratch) { server in
            let usage = try CairnProcess.run(["oci", "push", fixtures.v1.path, "--to", server.url], environment: home)
            #expect(usage.status == 64)
            let legacy = try CairnProcess.run(["oci", "push", fixtures.dockerArchive.path, "--to", server.url, "--pin-name", "x"], environment: home)
            #expect(legacy.status == 1 && legacy.stderr.contains("cannot be published"), "\(legacy.stderr)")
            #expect(try Self.serverBlocks(server) == 0)
            let tree = scratch.appendingPathComponent("tree")
            try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
            try Data("not a layout\n".utf8).write(to: tree.appendingPathComponent("index.json"))
            let push = try CairnProcess.run(["push", tree.path, "--to", server.url], environment: home)
            let root = try #require(push.stdoutText.split(separator: " ").first.map(String.init), "\(push.stderr)")
            let existing = try CairnProcess.run(["oci", "pull", root, "--from", server.url, "-o", tree.path], environment: home)
            #expect(existing.status == 1 && existing.stderr.contains("already exists"))
            let pulled = scratch.appendingPathComponent("pulled")
            let notLayout = try CairnProcess.run(["oci", "pull", root, "--from", server.url, "-o", pulled.path], environment: home)
            #expect(notLayout.status == 1 && notLayout.stderr.hasPrefix("Error: "), "\(notLayout.stderr)")
            #expect(!FileManager.default.fileExists(atPath: pulled.path))
        }
    }

    // MARK: - Support

    /// A copy of a fixture layout without unreferenced blobs (`umoci gc`: umoci keeps the empty
    /// image it started from), and the reference skopeo names its image by; `multi` is an index
    /// of the gzip and the zstd v1 images as two platforms, nested under index.json.
    static func layout(_ name: String, fixtures: Fixtures, scratch: URL) throws -> (URL, String) {
        let (layout, reference) = try fixture(name, fixtures: fixtures, scratch: scratch)
        try Tool.must("umoci", ["gc", "--layout", layout.path])
        return (layout, reference)
    }

    private static func fixture(_ name: String, fixtures: Fixtures, scratch: URL) throws -> (URL, String) {
        let copy = scratch.appendingPathComponent("layout")
        switch name {
        case "v1", "v1zstd":
            try Tool.must("cp", ["-r", (name == "v1" ? fixtures.v1 : fixtures.v1zstd).path, copy.path])
            return (copy, "v1")
        default:
            let root = scratch.appendingPathComponent("multi")
            try Tool.must("cp", ["-r", fixtures.v1.path, root.path])
            try Tool.must("cp", ["-rn", fixtures.v1zstd.appendingPathComponent("blobs").path, root.path])
            func descriptor(_ layout: URL, _ arch: String) throws -> [String: Any] {
                let index = try JSONSerialization.jsonObject(with: Data(contentsOf: layout.appendingPathComponent("index.json"))) as! [String: Any]
                var manifest = (index["manifests"] as! [[String: Any]])[0]
                manifest["annotations"] = nil
                manifest["platform"] = ["os": "linux", "architecture": arch]
                return manifest
            }
            let nested: [String: Any] = ["schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                         "manifests": [try descriptor(fixtures.v1, "amd64"), try descriptor(fixtures.v1zstd, "arm64")]]
            let bytes = [UInt8](try JSONSerialization.data(withJSONObject: nested, options: [.sortedKeys]))
            let digest = LayoutCopy.sha256(bytes)
            try Data(bytes).write(to: root.appendingPathComponent("blobs/sha256/" + digest.dropFirst(7)))
            let top: [String: Any] = ["schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                      "manifests": [["mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": bytes.count,
                                                     "annotations": ["org.opencontainers.image.ref.name": "multi"]]]]
            try JSONSerialization.data(withJSONObject: top, options: [.sortedKeys]).write(to: root.appendingPathComponent("index.json"))
            return (root, "multi")
        }
    }

    /// Runs `body` with a `cairn serve` over `scratch/server-store`, then stops it.
    static func withServer(_ scratch: URL, _ body: (ServeProcess) throws -> Void) throws {
        let server = try ServeProcess(store: scratch.appendingPathComponent("server-store").path)
        defer { server.stop() }
        try body(server)
    }

    /// The roots the server pins under exactly `name`.
    static func serverPins(_ server: ServeProcess, name: String) throws -> [String] {
        let run = try Tool.must("curl", ["-sf", "-X", "POST", "\(server.url)/api/v0/pin/ls?type=recursive&names=true&stream=true&name=\(name)"])
        return String(decoding: run.stdout, as: UTF8.self).split(separator: "\n").compactMap { line in
            let pin = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            return pin?["Name"] as? String == name ? pin?["Cid"] as? String : nil
        }
    }

    /// How many blocks the server stores (`refs/local`).
    static func serverBlocks(_ server: ServeProcess) throws -> Int {
        let run = try Tool.must("curl", ["-sf", "-X", "POST", "\(server.url)/api/v0/refs/local"])
        return String(decoding: run.stdout, as: UTF8.self).split(separator: "\n").count
    }

    /// Every regular file under `root`, by relative path, with its bytes.
    static func files(_ root: URL) throws -> [String: Data] {
        var result: [String: Data] = [:]
        let base = root.standardizedFileURL.path
        for case let url as URL in FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])! {
            guard try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true else { continue }
            result[String(url.standardizedFileURL.path.dropFirst(base.count + 1))] = try Data(contentsOf: url)
        }
        return result
    }
}
