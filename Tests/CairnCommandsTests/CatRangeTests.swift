import Blocks
import CairnTestSupport
import Multiformats
import Foundation
import Testing

/// `cairn cat --offset/--length` (Kubo's flags): the bytes written are the slice of the input.
@Suite struct CatRangeTests {
    @Test func rangesAreSlicesOfTheInput() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let input = SplitMix64.bytes(seed: 15, count: 200_000)
        let file = try box.write("in", input)
        let add = try box.cairn(["add", "-Q", "--chunker=size-1000", "--max-file-links=4", file])
        try #require(add.status == 0, "\(add.stderr)")
        let root = add.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let cases: [(offset: Int?, length: Int?)] = [(nil, nil), (0, 10), (999, 2), (123_456, 50_000), (199_990, 100), (200_000, nil), (5, 0)]
        for (offset, length) in cases {
            let flags = (offset.map { ["--offset", String($0)] } ?? []) + (length.map { ["-l", String($0)] } ?? [])
            let cat = try box.cairn(["cat"] + flags + [root])
            let start = offset ?? 0
            let end = length.map { min(input.count, start + $0) } ?? input.count
            #expect(cat.status == 0 && [UInt8](cat.stdout) == Array(input[min(start, input.count)..<max(end, min(start, input.count))]),
                    "\(flags): \(cat.stderr)")
        }
        for bad in [["--offset=-1"], ["--length=-5"]] {
            let cat = try box.cairn(["cat"] + bad + [root])
            #expect(cat.status == 64 && cat.stderr.hasPrefix("Error: ") && cat.stdout.isEmpty, "\(bad): \(cat.stderr)")
        }
    }
}

/// `cairn cat` and `cairn get` take IPFS paths as Kubo's do (`CID/NAME/…`, `/ipfs/CID/NAME/…`),
/// through basic and HAMT-sharded directories; a name absent, a path through a file, `.` or
/// `..`, or a first segment that is no CID is one error line.
@Suite struct CatGetPathTests {
    @Test func pathsThroughDirectories() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let tree = box.root + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/sub/deeper", withIntermediateDirectories: true)
        let inner = SplitMix64.bytes(seed: 41, count: 300_000)
        _ = try box.write("tree/sub/deeper/inner.bin", inner)
        _ = try box.write("tree/top.txt", Array("top\n".utf8))
        // A name that begins with a combining mark: "/\u{301}" is one Character.
        _ = try box.write("tree/sub/\u{301}accent.txt", Array("combining\n".utf8))
        // A directory sharded into a HAMT (Kubo's --max-directory-links style threshold: many entries).
        try FileManager.default.createDirectory(atPath: tree + "/wide", withIntermediateDirectories: true)
        for n in 0..<300 { _ = try box.write("tree/wide/entry-\(n).txt", Array("entry \(n)\n".utf8)) }
        let add = try box.cairn(["add", "-r", "-Q", "--cid-version=1", "--max-directory-links=32", tree])
        try #require(add.status == 0, "\(add.stderr)")
        let root = add.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)

        for path in ["\(root)/sub/deeper/inner.bin", "/ipfs/\(root)/sub/deeper/inner.bin", "\(root)//sub/deeper/inner.bin/"] {
            let cat = try box.cairn(["cat", path])
            #expect(cat.status == 0 && [UInt8](cat.stdout) == inner, "\(path): \(cat.stderr)")
        }
        let accented = try box.cairn(["cat", "/ipfs/\(root)/sub/\u{301}accent.txt"])
        #expect(accented.status == 0 && accented.stdoutText == "combining\n", "\(accented.stderr)")
        let wide = try box.cairn(["cat", "\(root)/wide/entry-217.txt"])
        #expect(wide.status == 0 && wide.stdoutText == "entry 217\n", "\(wide.stderr)")

        // get: the default name is the path's last one.
        let here = box.root + "/out"
        try FileManager.default.createDirectory(atPath: here, withIntermediateDirectories: true)
        let get = try CairnProcess.run(["get", "--store", box.store, "\(root)/sub"], currentDirectory: here)
        #expect(get.status == 0, "\(get.stderr)")
        #expect(try box.read(here + "/sub/deeper/inner.bin") == inner)

        // Through dag-cbor, as boxo's resolver goes: {"a": [link to top.txt's root]}.
        let topCID = try #require(try box.cairn(["add", "-Q", "--cid-version=1", tree + "/top.txt"]).stdoutText.split(separator: "\n").first.map(String.init))
        let link = [UInt8(0)] + (try CID(topCID)).bytes
        let node = try box.putBlock([0xA1, 0x61, UInt8(ascii: "a"), 0x81, 0xD8, 0x2A, 0x58, UInt8(link.count)] + link, codec: "dag-cbor")
        let viaCBOR = try box.cairn(["cat", "/ipfs/\(node)/a/0"])
        #expect(viaCBOR.status == 0 && viaCBOR.stdoutText == "top\n", "\(viaCBOR.stderr)")
        let noKey = try box.cairn(["cat", "\(node)/b"])
        #expect(noKey.status != 0 && noKey.stderr.contains("no link named \"b\" under \(node)"), "\(noKey.stderr)")

        let refusals: [(String, String)] = [
            ("\(root)/nope", "no link named \"nope\" under \(root)"),
            ("\(root)/top.txt/x", "is not a directory"),
            ("\(root)/..", "expected a CID, CID/NAME… or /ipfs/CID/NAME…"),
            ("notacid/top.txt", "notacid is not a CID"),
        ]
        for (path, message) in refusals {
            let cat = try box.cairn(["cat", path])
            #expect(cat.status != 0 && cat.stderr.hasPrefix("Error: ") && cat.stderr.contains(message), "\(path): \(cat.stderr)")
            #expect(cat.stderr.split(separator: "\n").count == 1 && cat.stdout.isEmpty)
        }
    }
}

/// An argument whose bytes are not UTF-8 reaches Swift with U+FFFD in their place: `cat
/// DIR/\xff` would then read an entry named U+FFFD, another file. It is refused as a usage error
/// naming the argument, before anything is read.
@Suite struct ArgumentEncodingTests {
    @Test func anArgumentThatIsNotUTF8IsRefused() throws {
        let box = try StoreSandbox()
        defer { box.cleanup() }
        let entry = try box.putBlock(Array("another file\n".utf8))
        let dir = try box.putBlock(unixfsNode(.directory(), [("\u{FFFD}", entry)]), codec: "dag-pb")
        // The entry is there under its own (UTF-8) name.
        let named = try box.cairn(["cat", "\(dir)/\u{FFFD}"])
        #expect(named.status == 0 && named.stdoutText == "another file\n", "\(named.stderr)")
        let binary = try #require(CairnProcess.binary)
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "\"$CAIRN\" cat --store \"$STORE\" \"$DIR/$(printf 'a\\377')\""]
        shell.environment = ["CAIRN": binary.path, "STORE": box.store, "DIR": dir.description, "PATH": "/usr/bin:/bin"]
        let out = Pipe(), err = Pipe()
        shell.standardOutput = out
        shell.standardError = err
        try shell.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 64 && stdout.isEmpty, "\(stderr)")
        #expect(stderr.hasPrefix("Error: argument 4 (\"\(dir)/a\\xFF\") is not valid UTF-8"), "\(stderr)")
    }
}
