import Testing
import Foundation
import CairnTestSupport

/// A request body that trickles holds the store's writer (spec/serve.md §4, Timeouts): it is
/// cut once it falls behind `--upload-min-rate` while the server waits for it, with
/// `--idle-timeout` seconds of slack, and the next upload gets the writer; a slow client that
/// keeps the rate is not cut.
@Suite(.serialized) struct UploadRateTests {
    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Everything the server sends until it closes (or 30 s pass): its text, and whether it closed.
    private func drain(_ fd: Int32) -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { received += buffer[0..<count]; continue }
            return (String(decoding: received, as: UTF8.self), count == 0 || errno == ECONNRESET)
        }
    }

    /// The head and multipart framing of a `dag/import` of `car`.
    private func importRequest(_ car: Data) -> (head: [UInt8], opening: [UInt8], closing: [UInt8]) {
        let opening = Array("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.car\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        let closing = Array("\r\n--XyZ--\r\n".utf8)
        let length = opening.count + car.count + closing.count
        let head = Array("POST /api/v0/dag/import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: \(length)\r\n\r\n".utf8)
        return (head, opening, closing)
    }

    @Test func tricklingUploadIsCutAndTheNextOneGetsTheWriter() throws {
        try withServeProcess("trickle", extra: ["--idle-timeout", "1"]) { work, server in
            let file = work.appendingPathComponent("file")
            try sm1(300_000).write(to: file)
            let added = try rpc(server, "add?pin=false&cid-version=1", ["-F", "file=@\(file.path)"])
            let root = try #require(jsonLines(added.text).last?["Hash"] as? String)
            let export = try rpc(server, "dag/export?arg=\(root)")
            #expect(export.status == 200)
            let car = export.body
            let carFile = work.appendingPathComponent("a.car")
            try car.write(to: carFile)

            // A: the head, the part's opening and the CAR's first bytes, then a byte every 100 ms
            // (a valid prefix: only its pace is wrong).
            let trickler = try loopbackConnection(port: server.port, timeoutSeconds: 30)
            defer { close(trickler) }
            let (head, opening, _) = importRequest(car)
            #expect(sendAll(trickler, head + opening + Array(car.prefix(16))))
            let sent = LockedCounter()
            let stop = LockedFlag()
            let thread = Thread {
                for byte in car.dropFirst(16) {
                    if stop.isSet { return }
                    usleep(100_000)
                    guard self.sendAll(trickler, [byte]) else { return }
                    sent.add(1)
                }
            }
            thread.start()
            defer { stop.set() }

            // B, meanwhile: a whole upload, which needs the writer A holds.
            usleep(300_000)
            let started = Date()
            let other = try rpc(server, "dag/import?pin-roots=true", ["-F", "file=@\(carFile.path)"])
            #expect(other.status == 200 && other.text.contains(root), "\(other.status) \(other.text)")
            #expect(Date().timeIntervalSince(started) < 20)

            // A was closed by the server, long before it could have sent its CAR.
            let (answer, closed) = drain(trickler)
            #expect(closed, "A's connection is still open: \(answer)")
            #expect(sent.value < car.count / 2, "A sent \(sent.value) bytes")
        }
    }

    @Test func slowUploadKeepingTheRateIsNotCut() throws {
        try withServeProcess("slow", extra: ["--idle-timeout", "1"]) { work, server in
            let file = work.appendingPathComponent("file")
            try sm1(300_000).write(to: file)
            let added = try rpc(server, "add?pin=false&cid-version=1", ["-F", "file=@\(file.path)"])
            let root = try #require(jsonLines(added.text).last?["Hash"] as? String)
            let car = try rpc(server, "dag/export?arg=\(root)").body
            #expect(try rpc(server, "repo/gc").status == 200)

            // 32 KiB every 0.4 s (80 KiB/s, over the 16 KiB/s minimum): about 4 s in all, four
            // times the slack, and never cut.
            let fd = try loopbackConnection(port: server.port, timeoutSeconds: 30)
            defer { close(fd) }
            let (head, opening, closing) = importRequest(car)
            #expect(sendAll(fd, head + opening))
            var offset = 0
            while offset < car.count {
                usleep(400_000)
                let end = min(car.count, offset + 32 << 10)
                #expect(sendAll(fd, Array(car[offset..<end])))
                offset = end
            }
            #expect(sendAll(fd, closing))
            let (answer, _) = drain(fd)
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
            #expect(answer.contains(root), "\(answer)")
        }
    }
}

/// A count shared with a sending thread.
private final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add(_ n: Int) { lock.withLock { count += n } }
    var value: Int { lock.withLock { count } }
}

private final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.withLock { flag = true } }
    var isSet: Bool { lock.withLock { flag } }
}
