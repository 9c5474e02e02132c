import Foundation
import CairnTestSupport

/// One `curl` exchange: status, head (and trailer) lines, body.
struct CurlResult {
    var status: Int
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// Runs `curl -s` with `arguments` (URL included), capturing the status, the response head and
/// trailers (curl's `-D` dump has both) and the body.
func curl(_ arguments: [String]) throws -> CurlResult {
    let directory = try makeTemporaryDirectory("curl")
    defer { try? FileManager.default.removeItem(at: directory) }
    let head = directory.appendingPathComponent("head").path
    let body = directory.appendingPathComponent("body").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["-s", "-D", head, "-o", body, "-w", "%{http_code}", "--max-time", "60"] + arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let status = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    var headers: [String: String] = [:]
    let headText = (try? String(contentsOfFile: head, encoding: .utf8)) ?? ""
    for line in headText.split(whereSeparator: \.isNewline) {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return CurlResult(status: Int(status) ?? 0, headers: headers,
                      body: FileManager.default.contents(atPath: body) ?? Data())
}

/// A POST to `cairn serve`'s RPC: `command` with its query, extra curl arguments (a multipart
/// `-F` file, credentials).
func rpc(_ server: ServeProcess, _ command: String, _ extra: [String] = []) throws -> CurlResult {
    try curl(["-X", "POST", "-H", "Expect:"] + extra + ["\(server.url)/api/v0/\(command)"])
}

/// A fresh directory for one test, removed by the caller.
func serveDirectory(_ label: String) throws -> URL {
    try makeTemporaryDirectory("rpc-\(label)")
}

/// The sm1 SplitMix64 input of the shared vectors (`inputs.tsv`: seed 1, `size` bytes).
func sm1(_ size: Int) -> Data { Data(SplitMix64.bytes(seed: 1, count: size)) }

/// The JSON object of a response body (or each NDJSON line).
func jsonLines(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").compactMap { line in
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }
}

/// Lower-case hex SHA-256 (the test suite's own independent implementation).
func sha256Hex(_ data: Data) -> String {
    var hasher = TestSHA256()
    hasher.update(data)
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
}

/// A fresh directory and a `cairn serve` over a store in it (`EXTRA` arguments), for `body`;
/// the server is stopped and the directory removed afterwards.
func withServeProcess(_ label: String, extra: [String] = [], _ body: (URL, ServeProcess) throws -> Void) throws {
    let work = try serveDirectory(label)
    defer { try? FileManager.default.removeItem(at: work) }
    let server = try ServeProcess(store: work.appendingPathComponent("store").path, extra: extra)
    defer { server.stop() }
    try body(work, server)
}

/// A TCP connection to 127.0.0.1:`port` (the caller closes it); `receiveBuffer` shrinks its
/// receive buffer (a client that reads little), and each receive gives up after
/// `timeoutSeconds`.
func loopbackConnection(port: Int, receiveBuffer: Int32? = nil, timeoutSeconds: Int = 20) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ServeTestError("socket failed") }
    if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        throw ServeTestError("connect failed")
    }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
}
