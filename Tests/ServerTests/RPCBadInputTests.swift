import Testing
import Foundation
import CairnTestSupport

/// Bad input and security (spec/serve.md §4): each answer a clear error status, nothing
/// stored, the server still serving.
@Suite(.serialized) struct RPCBadInputTests {
    /// Nothing is in the store, and the server still answers.
    func expectUntouched(_ server: ServeProcess, _ note: Comment) throws {
        #expect(try rpc(server, "refs/local").text.isEmpty, note)
        #expect(try rpc(server, "version").status == 200, note)
    }

    @Test func uploadsThatFailStoreNothing() throws {
        let work = try serveDirectory("bad")
        defer { try? FileManager.default.removeItem(at: work) }
        let server = try ServeProcess(store: work.appendingPathComponent("store").path, extra: ["--max-body-bytes", "4000000"])
        defer { server.stop() }

        // Malformed multipart: no boundary; a boundary that never closes.
        let noBoundary = try rpc(server, "block/put", ["-H", "Content-Type: multipart/form-data", "--data-binary", "hello"])
        #expect(noBoundary.status == 400)
        let unclosed = try rpc(server, "block/put", ["-H", "Content-Type: multipart/form-data; boundary=XyZ",
                                                     "--data-binary", "--XyZ\r\nContent-Type: text/plain\r\n\r\nhello"])
        #expect(unclosed.status == 400)
        try expectUntouched(server, "malformed multipart")

        // A CAR made by Kubo's rules (sm1_262145), truncated, and with one block byte flipped.
        let file = work.appendingPathComponent("file.bin")
        try sm1(262_145).write(to: file)
        let carURL = work.appendingPathComponent("good.car")
        try #require(try CairnProcess.run(["add", "--car", carURL.path, file.path]).status == 0)
        let car = try Data(contentsOf: carURL)
        let truncated = work.appendingPathComponent("truncated.car")
        try car.prefix(car.count - 1000).write(to: truncated)
        let cut = try rpc(server, "dag/import", ["-F", "file=@\(truncated.path)"])
        #expect(cut.status >= 400, "\(cut.text)")
        try expectUntouched(server, "truncated CAR")
        var flipped = car
        flipped[car.count / 2] ^= 0x40
        let wrong = work.appendingPathComponent("wrong.car")
        try flipped.write(to: wrong)
        let mismatch = try rpc(server, "dag/import", ["-F", "file=@\(carURL.path)", "-F", "file=@\(wrong.path)"])
        #expect(mismatch.status == 500 && jsonLines(mismatch.text).first?["Type"] as? String == "error")
        try expectUntouched(server, "a block that does not match its CID (after a good CAR in the same request)")
        // Blocks over 2 MiB need allow-big-block; bodies over --max-body-bytes are refused.
        let big = work.appendingPathComponent("big.bin")
        try sm1((2 << 20) + 1).write(to: big)
        let refused = try rpc(server, "block/put", ["-F", "file=@\(big.path)"])
        #expect(refused.status >= 400 && refused.text.contains("allow-big-block"))
        try expectUntouched(server, "big block")
        let huge = work.appendingPathComponent("huge.bin")
        try sm1(5_000_000).write(to: huge)
        let tooLarge = try rpc(server, "block/put?allow-big-block=true", ["-F", "file=@\(huge.path)"])
        #expect(tooLarge.status == 413)
        try expectUntouched(server, "body over the limit")
        #expect(try rpc(server, "block/put?allow-big-block=true", ["-F", "file=@\(big.path)"]).status == 200)

        // Names that would leave the upload directory.
        let escape = try rpc(server, "add", ["-F", "file=@\(file.path);filename=../../escape.bin"])
        #expect(escape.status == 400)
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("escape.bin").path))
        #expect(try rpc(server, "version").status == 200)
    }

    /// Query escapes as Go's `URL.Query()` reads them: `+` and `%20` are spaces, `%2F` a slash;
    /// a malformed escape drops its pair (so `arg=%zz` is no argument); bytes that are not UTF-8
    /// once unescaped (`%FF`) are refused (400), never looked up as the literal text `%FF`
    /// (a hostile pass found `CID/%FF` answering with the entry named "%FF").
    @Test func queryEscapesAsGoReadsThem() throws {
        try withServeProcess("escapes") { work, server in
            let directory = work.appendingPathComponent("d")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data("lit".utf8).write(to: directory.appendingPathComponent("%FF"))
            try Data("spaced".utf8).write(to: directory.appendingPathComponent("a b"))
            let store = work.appendingPathComponent("local").path
            let added = try CairnProcess.run(["add", "-Q", "-r", "-n", "--store", store, directory.path])
            let root = added.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            let car = work.appendingPathComponent("d.car").path
            #expect(try CairnProcess.run(["add", "-Q", "-r", "--car", car, directory.path]).status == 0)
            #expect(try rpc(server, "dag/import", ["-F", "file=@\(car)"]).status == 200)

            #expect(try rpc(server, "cat?arg=\(root)/a+b").text == "spaced")
            #expect(try rpc(server, "cat?arg=\(root)%2Fa%20b").text == "spaced")
            #expect(try rpc(server, "cat?arg=\(root)/%25FF").text == "lit")
            let invalid = try rpc(server, "cat?arg=\(root)/%FF")
            #expect(invalid.status == 400)
            #expect(invalid.text == "query parameter \"arg\" is not valid UTF-8 once unescaped\n", "\(invalid.text)")
            let malformed = try rpc(server, "cat?arg=%zz")
            #expect(malformed.status == 400)
            #expect(jsonLines(malformed.text).first?["Message"] as? String == "argument \"ipfs-path\" is required", "\(malformed.text)")
        }
    }

    @Test func authorizationsAsKubo() throws {
        let work = try serveDirectory("auth")
        defer { try? FileManager.default.removeItem(at: work) }
        let auth = work.appendingPathComponent("auth.json")
        try Data("""
            {"alice": {"AuthSecret": "basic:alice:s3cret", "AllowedPaths": ["/api/v0/block"]},
             "bob": {"AuthSecret": "bearer:token-b", "AllowedPaths": ["/api/v0"]}}
            """.utf8).write(to: auth)
        let server = try ServeProcess(store: work.appendingPathComponent("store").path, extra: ["--auth-file", auth.path])
        defer { server.stop() }
        let denied = "Kubo RPC Access Denied: Please provide a valid authorization token as defined in the API.Authorizations configuration.\n"

        let none = try rpc(server, "version")
        #expect(none.status == 403 && none.text == denied)
        let wrong = try rpc(server, "version", ["-u", "alice:wrong"])
        #expect(wrong.status == 403)
        #expect(try rpc(server, "version", ["-u", "alice:s3cret"]).status == 200)  // any valid secret
        #expect(try rpc(server, "block/stat?arg=bafkreigrxpltxmersc73rayfm5y6eluzova62iahs6j36m4xl7qwkrmbym",
                        ["-u", "alice:s3cret"]).status == 500)  // allowed through; the block is absent
        let outside = try rpc(server, "pin/ls", ["-u", "alice:s3cret"])
        #expect(outside.status == 403 && outside.text == denied)
        #expect(try rpc(server, "pin/ls", ["-H", "Authorization: Bearer token-b"]).status == 200)
        #expect(try rpc(server, "pin/ls", ["-H", "Authorization: Bearer token-x"]).status == 403)
    }

    @Test func readOnlyRefusesWrites() throws {
        let work = try serveDirectory("readonly")
        defer { try? FileManager.default.removeItem(at: work) }
        let store = work.appendingPathComponent("store").path
        let one = work.appendingPathComponent("one")
        try sm1(1).write(to: one)
        // A store must exist to be served read-only.
        try #require(try CairnProcess.run(["block", "put", one.path, "--store", store]).status == 0)
        let server = try ServeProcess(store: store, extra: ["--read-only"])
        defer { server.stop() }
        let put = try rpc(server, "block/put", ["-F", "file=@\(one.path)"])
        #expect(put.status == 403 && jsonLines(put.text).first?["Type"] as? String == "error")
        #expect(try rpc(server, "repo/gc").status == 403)
        #expect(try rpc(server, "block/stat?arg=bafkreigrxpltxmersc73rayfm5y6eluzova62iahs6j36m4xl7qwkrmbym").status == 200)
    }
}
