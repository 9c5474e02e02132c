import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP relay to `127.0.0.1:target` (one thread per direction and connection) that,
/// once one connection has carried `limit` bytes towards the target, calls `trip` (once) and
/// drops that connection: a deterministic "the server died in the middle of this upload".
final class TripRelay: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var didTrip = false

    var tripped: Bool { lock.lock(); defer { lock.unlock() }; return didTrip }

    init(to target: Int, limit: Int, trip: @escaping @Sendable () -> Void) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 64) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        guard listener >= 0, bound else { throw ServeNodeError(description: "the relay cannot listen: errno \(errno)") }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in
            while case let client = accept(listener, nil, nil), client >= 0 {
                var server = Self.loopback(port: target)
                let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                let connected = withUnsafePointer(to: &server) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
                }
                guard connected else { Glibc.close(client); Glibc.close(upstream); continue }
                Thread { self.pump(from: client, to: upstream, limit: limit, trip: trip) }.start()
                Thread { self.pump(from: upstream, to: client, limit: nil, trip: nil) }.start()
            }
        }.start()
    }

    /// Copies `from` to `to` until either end closes (or, counting, the limit trips), then
    /// shuts both down.
    private func pump(from: Int32, to: Int32, limit: Int?, trip: (@Sendable () -> Void)?) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var carried = 0
        loop: while true {
            let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            carried += count
            if let limit, carried >= limit {
                lock.lock()
                let first = !didTrip
                didTrip = true
                lock.unlock()
                if first { trip?() }
                break
            }
            var sent = 0
            while sent < count {
                let written = buffer.withUnsafeBytes { write(to, $0.baseAddress! + sent, count - sent) }
                guard written > 0 else { break loop }
                sent += written
            }
        }
        shutdown(from, Int32(SHUT_RDWR))
        shutdown(to, Int32(SHUT_RDWR))
    }

    func close() {
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
