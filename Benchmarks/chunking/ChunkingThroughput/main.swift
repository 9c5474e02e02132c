// ChunkingThroughput: single-core throughput of Cairn's chunkers over SplitMix64 data in memory.
//
//   ChunkingThroughput [--mib N] [--runs R] [--seed S] [SPEC ...]
//
// Prints one line per spec: `SPEC GIB_PER_S CHUNKS` (best of R runs; the data is generated once).
//
//   ChunkingThroughput --write PATH [--mib N] [--seed S]   writes the same data to PATH and exits
//   ChunkingThroughput --file PATH SPEC ...                 streams PATH through ChunkReader (read cost included)
import BenchmarkSupport
import Chunking

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

var mebibytes = 1024
var runs = 3
var seed: UInt64 = 42
var specs: [String] = []
var writePath: String?
var filePath: String?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--mib": mebibytes = Int(arguments.popFirst() ?? "") ?? mebibytes
    case "--runs": runs = Int(arguments.popFirst() ?? "") ?? runs
    case "--seed": seed = UInt64(arguments.popFirst() ?? "") ?? seed
    case "--write": writePath = arguments.popFirst()
    case "--file": filePath = arguments.popFirst()
    default: specs.append(argument)
    }
}
if specs.isEmpty {
    specs = ["size-262144", "rabin", "rabin-16384-65536-131072", "buzhash", "fastcdc", "fastcdc-16384-65536-262144-2"]
}

func seconds() -> Double {
    var ts = timespec()
    // CAIRN_CPU_TIME=1: this thread's CPU time (steadier on a shared machine) instead of wall time.
    clock_gettime(getenv("CAIRN_CPU_TIME") != nil ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

let size = mebibytes << 20
let data = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
defer { data.deallocate() }
var generator = SplitMix64(seed: seed)
generator.fill(data)

if let writePath {
    let fd = open(writePath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { print("cannot create \(writePath)"); exit(1) }
    var written = 0
    while written < size {
        let n = write(fd, data.baseAddress! + written, min(size - written, 1 << 24))
        guard n > 0 else { print("write failed"); exit(1) }
        written += n
    }
    close(fd)
    exit(0)
}

if let filePath {
    for text in specs {
        let chunker = (try? ChunkerSpec(parsing: text))?.makeChunker() ?? Chunker(.kuboDefault)
        var best = Double.infinity
        var count = 0
        var total = 0
        for _ in 0..<runs {
            let fd = open(filePath, O_RDONLY)
            guard fd >= 0 else { print("cannot open \(filePath)"); exit(1) }
            var source = FileDescriptorSource(fileDescriptor: fd)
            let reader = ChunkReader(finder: chunker)
            var chunks = 0
            let start = seconds()
            total = (try? reader.forEachChunk(from: &source) { _, _ in chunks += 1 }) ?? 0
            best = min(best, seconds() - start)
            close(fd)
            count = chunks
        }
        print("\(text) \((Double(total) / Double(1 << 30) / best * 1000).rounded() / 1000) \(count)")
    }
    exit(0)
}

for text in specs {
    let spec: ChunkerSpec
    do { spec = try ChunkerSpec(parsing: text) } catch {
        print("\(error)")
        exit(2)
    }
    let chunker = spec.makeChunker()
    var best = Double.infinity
    var count = 0
    for _ in 0..<runs {
        var chunks = 0
        var checksum = 0
        let start = seconds()
        chunker.forEachChunk(in: UnsafeRawBufferPointer(data)) { offset, chunk in
            chunks += 1
            checksum &+= offset ^ chunk.count
        }
        let elapsed = seconds() - start
        if checksum == -1 { print("") }  // keep the work observable
        best = min(best, elapsed)
        count = chunks
    }
    let gibPerSecond = Double(size) / Double(1 << 30) / best
    print("\(text) \((gibPerSecond * 1000).rounded() / 1000) \(count)")
}
