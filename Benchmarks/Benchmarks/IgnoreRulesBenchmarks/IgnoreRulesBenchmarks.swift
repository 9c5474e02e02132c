// Ignore-rule matching on hostile input (ordo-one/benchmark): a pattern of 30 `*a` stars then `b`
// against names of 250 `a`s, which backtracks exponentially unless failed positions are
// remembered. This timing used to be an assertion in Tests/UnixFSTests/IgnoreRulesTests.swift
// (`elapsed < 2 s`); a unit test only checks the answer, the time is measured here.
import Benchmark
import UnixFS

let benchmarks: @Sendable () -> Void = {
    let rules = IgnoreRules([String(repeating: "*a", count: 30) + "b"])
    let name = Array(repeating: UInt8(ascii: "a"), count: 250)
    Benchmark(
        "ignore rules: 30 stars against 250 bytes, no match",
        configuration: .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(5), maxIterations: 1000)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(rules.excludes(name: name, isDirectory: false))
        }
    }
}
