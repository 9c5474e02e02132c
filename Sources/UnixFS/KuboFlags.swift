extension ImportOptions {
    /// Parses the import flags of `ipfs add` as written on Kubo's command line, e.g.
    /// `["--cid-version=1", "--raw-leaves=false", "-s", "rabin"]`.
    ///
    /// Accepted: `--chunker/-s`, `--trickle/-t`, `--raw-leaves`, `--cid-version`, `--hash`,
    /// `--inline`, `--inline-limit`, `--max-file-links` (and `--max-links`, the importer's name
    /// for it used by the shared vectors), `--max-directory-links`, `--max-hamt-fanout`,
    /// `--preserve-mode`, `--preserve-mtime`, `--mode` (octal), `--mtime`, `--mtime-nsecs`, `--profile`. Values follow `=` or come as the next
    /// argument; booleans take an optional `=true|false`. Anything else is refused.
    public init(kuboArguments arguments: [String]) throws(ImportOptionsError) {
        self.init()
        var index = 0
        func value(_ name: String, _ inline: String?) throws(ImportOptionsError) -> String {
            if let inline { return inline }
            index += 1
            guard index < arguments.count else { throw ImportOptionsError(.invalidValue, "option \(name) needs a value") }
            return arguments[index]
        }
        func integer(_ name: String, _ text: String) throws(ImportOptionsError) -> Int {
            guard let number = Int(text) else { throw ImportOptionsError(.invalidValue, "option \(name): \"\(text)\" is not an integer") }
            return number
        }
        func boolean(_ name: String, _ text: String?) throws(ImportOptionsError) -> Bool {
            switch text {
            case nil, "true": return true
            case "false": return false
            default: throw ImportOptionsError(.invalidValue, "option \(name): \"\(text!)\" is not true or false")
            }
        }
        while index < arguments.count {
            let argument = arguments[index]
            let name: String
            let inline: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            } else {
                name = argument
                inline = nil
            }
            switch name {
            case "--chunker", "-s": chunker = try value(name, inline)
            case "--trickle", "-t": trickle = try boolean(name, inline)
            case "--raw-leaves": rawLeaves = try boolean(name, inline)
            case "--cid-version": cidVersion = try integer(name, try value(name, inline))
            case "--hash": hash = try value(name, inline)
            case "--inline": self.inline = try boolean(name, inline)
            case "--inline-limit": inlineLimit = try integer(name, try value(name, inline))
            case "--max-file-links", "--max-links": maxFileLinks = try integer(name, try value(name, inline))
            case "--max-directory-links": maxDirectoryLinks = try integer(name, try value(name, inline))
            case "--max-hamt-fanout": maxHAMTFanout = try integer(name, try value(name, inline))
            case "--preserve-mode": preserveMode = try boolean(name, inline)
            case "--preserve-mtime": preserveMtime = try boolean(name, inline)
            case "--mode": mode = try ImportOptions.parseMode(try value(name, inline))
            case "--mtime":
                let text = try value(name, inline)
                guard let seconds = Int64(text) else { throw ImportOptionsError(.invalidValue, "option --mtime: \"\(text)\" is not an integer") }
                mtime = seconds
            case "--mtime-nsecs":
                let text = try value(name, inline)
                guard let nanos = UInt32(text) else { throw ImportOptionsError(.invalidValue, "option --mtime-nsecs: \"\(text)\" is not an unsigned integer") }
                mtimeNanoseconds = nanos
            case "--profile":
                let text = try value(name, inline)
                guard let known = ImportProfile(rawValue: text) else {
                    throw ImportOptionsError(.unknownName, "unknown profile \"\(text)\" (known: \(ImportProfile.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                profile = known
            default:
                throw ImportOptionsError(.unknownName, "unknown import option \"\(argument)\"")
            }
            index += 1
        }
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
