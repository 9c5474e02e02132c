import ArgumentParser
import CairnSystem
import Synchronization

/// What a command had already done when a signal interrupted it, for the `Error: interrupted`
/// line (`store repair` after its commit): the status says the run was interrupted, the line
/// says what the interruption did not undo.
private let interruptNote = Mutex<String?>(nil)

extension Cairn {
    /// The program's entry point: SIGINT and SIGTERM cancel the running command through
    /// `CancellationToken.process`; every long loop then throws `CancellationError`, unwinds
    /// (removing its temporary files) and the process exits with 128 + the signal's number
    /// (130 for SIGINT, 143 for SIGTERM) after one line on stderr, `Error: interrupted`.
    /// A signal that arrives after the command finished still gives that status, so the
    /// status always says whether the run was interrupted. Once the command has run, standard
    /// output must have taken every byte printed (`StandardOutput`). See spec/cli.md.
    package static func runMain(arguments: [String]? = nil) async -> Never {
        Allocator.fixThresholds()
        CancellationToken.installSignalHandlers()
        _ = FaultPlan.active  // read CAIRN_FAULT(_COUNT) now, so the counts are reported at exit
        StandardOutput.prepare()
        do {
            // `cairn chunk` in its common forms skips ArgumentParser's reflection of the whole
            // command tree (ChunkCommand.quickArguments): its serial start-up bounds `--threads`.
            if arguments == nil { try refuseArgumentsNotInUTF8() }
            let words = arguments ?? Array(CommandLine.arguments.dropFirst())
            if words.first == "chunk", let quick = ChunkCommand.quickArguments(Array(words.dropFirst())) {
                try ChunkCommand.run(quick)
                try StandardOutput.check()
                CancellationToken.exitOnSignalFromNowOn()
                exitIfInterrupted()
                exit()
            }
            var command = try parseJoiningNegativeValues(words)
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            try StandardOutput.check()
        } catch {
            exitIfInterrupted()
            StandardOutput.exit(withError: error)
        }
        CancellationToken.exitOnSignalFromNowOn()
        exitIfInterrupted()
        exit()
    }

    /// Swift reads each argument as UTF-8 and puts U+FFFD where its bytes are not: a name or a
    /// path in another encoding would then be looked up as another one (`cat CID/\xff` would
    /// find an entry named U+FFFD). Such an argument is refused instead (a usage error).
    static func refuseArgumentsNotInUTF8() throws {
        for index in 1..<Int(CommandLine.argc) {
            guard let word = CommandLine.unsafeArgv[index], String(validatingCString: word) == nil else { continue }
            var shown = ""
            var pointer = word
            while pointer.pointee != 0 {
                let byte = UInt8(bitPattern: pointer.pointee)
                shown += byte >= 0x20 && byte < 0x7f ? String(UnicodeScalar(byte)) : "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
                pointer += 1
            }
            throw ValidationError("argument \(index) (\"\(shown)\") is not valid UTF-8: Cairn takes names, paths and values in UTF-8")
        }
    }

    /// Parses the command line; an option given a negative number as a separate word
    /// (`--length -5`), which ArgumentParser takes for an option and reports as a missing
    /// value, is parsed again as `--length=-5`, so the option's own check answers ("must be at
    /// least 1", "cannot specify negative length"), or the value is taken where it is valid.
    static func parseJoiningNegativeValues(_ arguments: [String]) throws -> ParsableCommand {
        var words = arguments
        while true {
            do {
                return try parseAsRoot(words)
            } catch {
                let prefix = "Missing value for '"
                let message = Cairn.message(for: error)
                guard message.hasPrefix(prefix), let name = message.dropFirst(prefix.count).split(separator: " ").first.map(String.init),
                      let index = words.indices.first(where: { words[$0] == name && $0 + 1 < words.count && isNegativeNumber(words[$0 + 1]) })
                else { throw error }
                words[index] = name + "=" + words[index + 1]  // `-o=-5` works as well
                words.remove(at: index + 1)
            }
        }
    }

    private static func isNegativeNumber(_ word: String) -> Bool {
        word.count > 1 && word.hasPrefix("-") && Double(word) != nil
    }

    /// Sets what the `Error: interrupted` line adds, should a signal have arrived (one line).
    static func noteForInterrupt(_ note: String) {
        interruptNote.withLock { $0 = note }
    }

    private static func exitIfInterrupted() {
        guard let signal = CancellationToken.process.signal else { return }
        var line = "Error: interrupted"
        if let note = interruptNote.withLock({ $0 }) { line += " " + oneLine(note, limit: 1000) }
        line += "\n"
        line.withUTF8 { _ = try? SystemCall.writeAll(2, UnsafeRawBufferPointer($0), path: nil) }
        CairnSystem.exit(128 + signal)
    }
}
