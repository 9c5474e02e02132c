/// One import flag of `ipfs add`, as Kubo spells and parses it: the one table the command line
/// (`ImportFlags`) and `ImportOptions(kuboArguments:)` both use (spec/unixfs.md §5).
public struct KuboImportFlag: Sendable {
    /// The spellings: the long name first, then any short or alias names.
    public let names: [String]
    /// True for a flag that takes a value (`--NAME VALUE` or `--NAME=VALUE`); false for a Kubo
    /// boolean (`--NAME`, `--NAME=true`, `--NAME=false`).
    public let takesValue: Bool
    let apply: @Sendable (inout ImportOptions, String?) throws -> Void

    /// The long name (`--chunker`).
    public var name: String { names[0] }
}

extension ImportOptions {
    /// Every import flag, in the order `ipfs add --help` lists them.
    public static let kuboFlags: [KuboImportFlag] = [
        value(["--chunker", "-s"]) { $0.chunker = $1 },
        boolean(["--trickle", "-t"]) { $0.trickle = $1 },
        boolean(["--raw-leaves"]) { $0.rawLeaves = $1 },
        value(["--cid-version"]) { $0.cidVersion = try integer("--cid-version", $1) },
        value(["--hash"]) { $0.hash = $1 },
        boolean(["--inline"]) { $0.inline = $1 },
        value(["--inline-limit"]) { $0.inlineLimit = try integer("--inline-limit", $1) },
        value(["--max-file-links", "--max-links"]) { $0.maxFileLinks = try integer("--max-file-links", $1) },
        value(["--max-directory-links"]) { $0.maxDirectoryLinks = try integer("--max-directory-links", $1) },
        value(["--max-hamt-fanout"]) { $0.maxHAMTFanout = try integer("--max-hamt-fanout", $1) },
        boolean(["--preserve-mode"]) { $0.preserveMode = $1 },
        boolean(["--preserve-mtime"]) { $0.preserveMtime = $1 },
        value(["--mode"]) { $0.mode = try ImportOptions.parseMode($1) },
        value(["--mtime"]) { options, text in
            guard let seconds = Int64(text) else { throw ImportOptionsError(.invalidValue, "option --mtime: \"\(text)\" is not an integer") }
            options.mtime = seconds
        },
        value(["--mtime-nsecs"]) { options, text in
            guard let nanos = UInt32(text) else { throw ImportOptionsError(.invalidValue, "option --mtime-nsecs: \"\(text)\" is not an unsigned integer") }
            options.mtimeNanoseconds = nanos
        },
        value(["--profile"]) { options, text in
            guard let known = ImportProfile(rawValue: text) else {
                throw ImportOptionsError(.unknownName, "unknown profile \"\(text)\" (known: \(ImportProfile.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            options.profile = known
        },
    ]

    /// The flag spelled `name` (any of its spellings), if it is an import flag.
    public static func kuboFlag(named name: String) -> KuboImportFlag? {
        kuboFlags.first { $0.names.contains(name) }
    }

    /// Applies one flag: `value` is the flag's value, or for a boolean nil (given bare),
    /// `true` or `false`.
    public mutating func apply(_ flag: KuboImportFlag, value: String?) throws(ImportOptionsError) {
        if !flag.takesValue, let value, value != "true", value != "false" {
            throw ImportOptionsError(.invalidValue, "option \(flag.name): \"\(value)\" is not true or false")
        }
        if flag.takesValue && value == nil { throw ImportOptionsError(.invalidValue, "option \(flag.name) needs a value") }
        do {
            try flag.apply(&self, value)
        } catch let error as ImportOptionsError {
            throw error
        } catch {
            throw ImportOptionsError(.invalidValue, "option \(flag.name): \(error)")
        }
    }

    /// Parses the import flags of `ipfs add` as written on Kubo's command line, e.g.
    /// `["--cid-version=1", "--raw-leaves=false", "-s", "rabin"]`: the flags of `kuboFlags`
    /// (`--max-links` is the importer's name for `--max-file-links`, used by the shared
    /// vectors). Values follow `=` or come as the next argument; booleans take an optional
    /// `=true|false`. Anything else is refused.
    public init(kuboArguments arguments: [String]) throws(ImportOptionsError) {
        self.init()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let flag = Self.kuboFlag(named: String(parts[0])) else {
                throw ImportOptionsError(.unknownName, "unknown import option \"\(argument)\"")
            }
            var value = parts.count == 2 ? String(parts[1]) : nil
            if flag.takesValue && value == nil {
                index += 1
                guard index < arguments.count else { throw ImportOptionsError(.invalidValue, "option \(parts[0]) needs a value") }
                value = arguments[index]
            }
            try apply(flag, value: value)
            index += 1
        }
    }

    private static func value(
        _ names: [String], _ apply: @escaping @Sendable (inout ImportOptions, String) throws -> Void
    ) -> KuboImportFlag {
        KuboImportFlag(names: names, takesValue: true) { options, text in try apply(&options, text ?? "") }
    }

    private static func boolean(
        _ names: [String], _ apply: @escaping @Sendable (inout ImportOptions, Bool) -> Void
    ) -> KuboImportFlag {
        KuboImportFlag(names: names, takesValue: false) { options, text in apply(&options, text != "false") }
    }

    private static func integer(_ name: String, _ text: String) throws(ImportOptionsError) -> Int {
        guard let number = Int(text) else { throw ImportOptionsError(.invalidValue, "option \(name): \"\(text)\" is not an integer") }
        return number
    }
}

extension ImportOptions {
    /// `--mode`: octal permission bits as Kubo parses them (`strconv.ParseInt(s, 8, 32)`), e.g.
    /// `0764` or `764`; at most `07777`.
    public static func parseMode(_ text: String) throws(ImportOptionsError) -> UInt32 {
        guard let value = UInt32(text, radix: 8), value <= 0o7777 else {
            throw ImportOptionsError(.invalidValue, "option --mode: \"\(text)\" is not an octal mode of at most 7777")
        }
        return value
    }
}
