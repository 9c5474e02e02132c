import CairnTestSupport
import Foundation
import Testing
@testable import OCI

/// Layouts built to mislead or exhaust a reader (found by a hostile pass): each is refused with
/// one clear line, or read in bounded time, as the comment of each case says.
@Suite struct HostileLayoutTests {
    /// `index.json` naming `manifests` twice: Foundation's decoder keeps the first (empty) list,
    /// Go's (skopeo's) the last; refused, whatever the order.
    @Test func aKeyNamedTwiceIsRefused() throws {
        let fixtures = try Fixtures.get()
        let copy = try LayoutCopy(of: fixtures.v1, label: "dupkey")
        defer { copy.remove() }
        let indexURL = copy.root.appendingPathComponent("index.json")
        let text = try String(contentsOf: indexURL, encoding: .utf8)
        let body = text.drop { $0 != "{" }.dropFirst()
        try Data(("{\"manifests\":[]," + body).utf8).write(to: indexURL)
        #expect(throws: OCIError.self) { try OCILayout(path: copy.root.path) }
        let verify = try CairnProcess.run(["oci", "verify", copy.root.path])
        #expect(verify.status == 1 && verify.stderr.contains("the key \"manifests\" appears twice in one object"), "\(verify.stderr)")
        // Escapes are decoded before keys are compared.
        #expect(JSONDocuments.repeatedKey(in: Array(#"{"a":1,"b":{"a":2},"\u0061":3}"#.utf8)) == "a")
        #expect(JSONDocuments.repeatedKey(in: Array(#"{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}"#.utf8)) == nil)
        #expect(JSONDocuments.repeatedKey(in: Array(#"{"k":"a\"b","a\"b":1,"x":"k"}"#.utf8)) == nil)
        // Go matches field names regardless of case (and folds ſ to s): those are repeats too;
        // map keys (annotations) are compared exactly.
        #expect(JSONDocuments.repeatedKey(in: Array(#"{"manifests":[],"Manifests":[]}"#.utf8)) == "Manifests")
        #expect(JSONDocuments.repeatedKey(in: Array("{\"manifests\":[],\"manife\u{17F}ts\":[]}".utf8)) == "manife\u{17F}ts")
        #expect(JSONDocuments.repeatedKey(in: Array(#"{"mediaType":"a","MEDIATYPE":"b"}"#.utf8)) == "MEDIATYPE")
        #expect(JSONDocuments.repeatedKey(in: Array(#"{"annotations":{"Label":"1","label":"2"}}"#.utf8)) == nil)
    }

    /// A descriptor without `mediaType` (the image spec requires one) would make a manifest an
    /// opaque blob whose layers are never checked: refused.
    @Test func aDescriptorWithoutMediaTypeIsRefused() throws {
        let fixtures = try Fixtures.get()
        let copy = try LayoutCopy(of: fixtures.v1, label: "nomediatype")
        defer { copy.remove() }
        var index = try copy.json(copy.root.appendingPathComponent("index.json"))
        var manifests = index["manifests"] as! [[String: Any]]
        manifests[0].removeValue(forKey: "mediaType")
        index["manifests"] = manifests
        try JSONSerialization.data(withJSONObject: index).write(to: copy.root.appendingPathComponent("index.json"))
        let verify = try CairnProcess.run(["oci", "verify", copy.root.path])
        #expect(verify.status == 1 && verify.stderr.contains("has no mediaType"), "\(verify.stderr)")
    }

    /// Four indexes, each naming the next 300 times (a DAG, 8 × 10⁹ paths): each document is
    /// followed once, so the walk ends at once.
    @Test func indexesNamedManyTimesAreFollowedOnce() throws {
        let fixtures = try Fixtures.get()
        let copy = try LayoutCopy(of: fixtures.v1, label: "fanout")
        defer { copy.remove() }
        var next = try copy.json(copy.root.appendingPathComponent("index.json"))["manifests"] as! [[String: Any]]
        for _ in 0..<4 {
            let bytes = [UInt8](try JSONSerialization.data(withJSONObject: ["schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                                                              "manifests": Array(repeating: next, count: 300).flatMap { $0 }]))
            let (digest, size) = try copy.writeBlob(bytes)
            next = [["mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": size]]
        }
        try JSONSerialization.data(withJSONObject: ["schemaVersion": 2, "manifests": next]).write(to: copy.root.appendingPathComponent("index.json"))
        let layout = try OCILayout(path: copy.root.path)
        #expect(layout.issues.isEmpty)
        #expect(layout.blobs.count == 3 + 4)  // manifest, config, layer, the four indexes
        let verify = try CairnProcess.run(["oci", "verify", copy.root.path])
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    /// An archive holding one member twice (a tampered copy, then the genuine one): readers
    /// differ on which counts, so it is refused. An archive is read to its end-of-archive block
    /// only (what follows is never read), and must be a regular file.
    @Test func archivesAreReadOnceAndToTheirEnd() throws {
        let fixtures = try Fixtures.get()
        let scratch = try makeTemporaryDirectory("oci-archive-members")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let archive = scratch.appendingPathComponent("layout.tar")
        try Tool.must("tar", ["-cf", archive.path, "-C", fixtures.v1.path, "."])
        // Junk after the archive's end: never read, still a valid archive.
        let handle = try FileHandle(forWritingTo: archive)
        handle.seekToEndOfFile()
        handle.write(Data(repeating: 0x41, count: 4096))
        try handle.close()
        let good = try CairnProcess.run(["oci", "verify", archive.path])
        #expect(good.status == 0, "\(good.stderr)")

        // The fixture's archive with one more member appended (`tar -rf` with `extra`).
        func appended(_ name: String, _ extra: [String]) throws -> URL {
            let url = scratch.appendingPathComponent(name)
            try Tool.must("tar", ["-cf", url.path, "-C", fixtures.v1.path, "."])
            try Tool.must("tar", ["-rf", url.path, "-C", fixtures.v1.path] + extra)
            return url
        }
        let twice = try appended("twice.tar", ["./index.json"])
        let refused = try CairnProcess.run(["oci", "verify", twice.path])
        #expect(refused.status == 1 && refused.stderr.contains("holds index.json twice"), "\(refused.stderr)")

        // The same member under another spelling, and a link named like a blob.
        let dotted = try appended("dotted.tar", ["--transform", "s,^,././/,", "index.json"])
        let dot = try CairnProcess.run(["oci", "verify", dotted.path])
        #expect(dot.status == 1 && dot.stderr.contains("holds index.json twice"), "\(dot.stderr)")
        let linkTree = scratch.appendingPathComponent("link-tree")
        try Tool.must("cp", ["-r", fixtures.v1.path, linkTree.path])
        let blobs = try FileManager.default.contentsOfDirectory(atPath: linkTree.appendingPathComponent("blobs/sha256").path).sorted()
        let linked = scratch.appendingPathComponent("linked.tar")
        try Tool.must("tar", ["-cf", linked.path, "-C", linkTree.path, "."])
        let aside = scratch.appendingPathComponent("aside")
        try FileManager.default.createDirectory(at: aside.appendingPathComponent("blobs/sha256"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: aside.appendingPathComponent("blobs/sha256/\(blobs[0])").path, withDestinationPath: "elsewhere")
        try Tool.must("tar", ["-rf", linked.path, "-C", aside.path, "blobs/sha256/\(blobs[0])"])
        let link = try CairnProcess.run(["oci", "verify", linked.path])
        #expect(link.status == 1 && link.stderr.contains("holds blobs/sha256/\(blobs[0]) twice"), "\(link.stderr)")
        let climbing = try appended("climbing.tar", ["--transform", "s,^,blobs/../,", "oci-layout"])
        let climb = try CairnProcess.run(["oci", "verify", climbing.path])
        #expect(climb.status == 1 && climb.stderr.contains("climbs out of it"), "\(climb.stderr)")

        let device = try CairnProcess.run(["oci", "verify", "/dev/zero"])
        #expect(device.status == 1 && device.stderr.contains("is not a regular file"), "\(device.stderr)")
    }

    /// A docker-archive whose config lists no diff_ids: its layers (whose only digest is their
    /// diff_id) would go unchecked, so the count must match (found by a hostile pass).
    @Test func aDockerArchiveConfigWithoutDiffIDsIsRefused() throws {
        let fixtures = try Fixtures.get()
        let scratch = try makeTemporaryDirectory("oci-docker-diffids")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let tree = scratch.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        try Tool.must("tar", ["-xf", fixtures.dockerArchive.path, "-C", tree.path])
        let manifestURL = tree.appendingPathComponent("manifest.json")
        var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as! [[String: Any]]
        let configName = manifest[0]["Config"] as! String
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: tree.appendingPathComponent(configName))) as! [String: Any]
        var rootfs = config["rootfs"] as! [String: Any]
        rootfs["diff_ids"] = [String]()
        config["rootfs"] = rootfs
        let bytes = [UInt8](try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]))
        let name = String(LayoutCopy.sha256(bytes).dropFirst("sha256:".count)) + ".json"
        try Data(bytes).write(to: tree.appendingPathComponent(name))
        try FileManager.default.removeItem(at: tree.appendingPathComponent(configName))
        manifest[0]["Config"] = name
        try JSONSerialization.data(withJSONObject: manifest).write(to: manifestURL)
        let archive = scratch.appendingPathComponent("edited.tar")
        try Tool.must("tar", ["-cf", archive.path, "-C", tree.path, "."])
        let verify = try CairnProcess.run(["oci", "verify", archive.path])
        #expect(verify.status == 1 && verify.stderr.contains("lists 0 diff_ids for"), "\(verify.stderr)")
    }
}
