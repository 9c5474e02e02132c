public import Chunking
public import CairnSystem
public import Hashing
public import Multiformats
public import Blocks

/// How file leaves are arranged under the root (kubo-import-semantics.md §4).
public enum FileLayout: String, Hashable, Sendable, CaseIterable {
    /// boxo `importer/balanced`: every leaf at the same depth, nodes filled left to right.
    case balanced
    /// boxo `importer/trickle`: leaves first, then groups of 4 subtrees of growing depth.
    case trickle
}

/// Fully resolved settings of one import: everything that decides the blocks and CIDs.
/// Build one from Kubo-style options with `ImportOptions.resolve()`, or set the fields directly.
public struct ImportParameters: Hashable, Sendable {
    /// Kubo's `DefaultLinksPerBlock`: 8192 / (34 + 8 + 5) = 174.
    public static let defaultMaxLinks = 174
    /// The largest identity CID digest Kubo accepts (`verifcid.DefaultMaxIdentityDigestSize`).
    public static let maxInlineLimit = 128
    /// `--inline-limit` when not given.
    public static let defaultInlineLimit = 32

    public var chunker: ChunkerSpec
    public var layout: FileLayout
    /// Links per internal node (`--max-file-links`); at least 2.
    public var maxLinks: Int
    /// Version of every dag-pb block's CID (raw leaves are always CIDv1).
    public var cidVersion: CID.Version
    public var hashAlgorithm: HashAlgorithm
    /// Leaves as `raw` blocks (the chunk bytes) instead of UnixFS dag-pb leaves.
    public var rawLeaves: Bool
    /// With `--inline`: blocks of at most this many bytes get an identity CIDv1. nil = off.
    public var inlineLimit: Int?
    /// Directories: when they become HAMTs, and what metadata entries carry.
    public var directory: DirectoryParameters = .kuboDefault
    /// Mode / mtime written into file roots, directories and symlinks (UnixFS 1.5).
    public var metadata: MetadataPolicy = .none

    public init(
        chunker: ChunkerSpec = .kuboDefault, layout: FileLayout = .balanced, maxLinks: Int = ImportParameters.defaultMaxLinks,
        cidVersion: CID.Version = .v0, hashAlgorithm: HashAlgorithm = .sha2_256, rawLeaves: Bool = false, inlineLimit: Int? = nil
    ) {
        self.chunker = chunker
        self.layout = layout
        self.maxLinks = maxLinks
        self.cidVersion = cidVersion
        self.hashAlgorithm = hashAlgorithm
        self.rawLeaves = rawLeaves
        self.inlineLimit = inlineLimit
    }

    /// `ipfs add` with no flags and no config (= profile unixfs-v0-2015).
    public static let kuboDefault = ImportParameters()

    /// Checks the combination; the importer calls this before reading anything.
    public func validate() throws(ImportOptionsError) {
        guard maxLinks >= 2 else {
            throw ImportOptionsError(.invalidValue, "max-file-links must be at least 2, got \(maxLinks)")
        }
        if cidVersion == .v0 && hashAlgorithm != .sha2_256 {
            throw ImportOptionsError(.conflict, "CIDv0 only supports sha2-256, not \(hashAlgorithm.name); use --cid-version=1")
        }
        try directory.validate()
        if !metadata.isNone && rawLeaves {
            throw ImportOptionsError(.conflict, "raw leaves can't be used with UnixFS metadata like mode or modification time")
        }
        if let inlineLimit, inlineLimit > ImportParameters.maxInlineLimit {
            throw ImportOptionsError(.invalidValue, "inline-limit \(inlineLimit) exceeds the maximum of \(ImportParameters.maxInlineLimit) bytes")
        }
        guard chunker.maximumChunkLength <= Chunking.kuboChunkSizeLimit else {
            throw ImportOptionsError(.invalidValue, "chunker \(chunker) can make chunks of \(chunker.maximumChunkLength) bytes, above Kubo's block limit of \(Chunking.kuboChunkSizeLimit)")
        }
    }
}

/// Kubo's named import presets (`ipfs config profile apply …`, IPIP-499); kubo-import-semantics.md §7.2.
public enum ImportProfile: String, Hashable, Sendable, CaseIterable {
    case unixfsV0_2015 = "unixfs-v0-2015"
    /// Alias of `unixfs-v0-2015` since Kubo 0.40.
    case legacyCidV0 = "legacy-cid-v0"
    case unixfsV1_2025 = "unixfs-v1-2025"

    /// The `Import.*` values the profile writes to the config (they then count as configured,
    /// i.e. as if given explicitly, in Kubo's flag resolution).
    public var configuredOptions: ImportOptions {
        var options = ImportOptions()
        // Shared by both profiles.
        options.hash = "sha2-256"
        options.trickle = false
        options.maxDirectoryLinks = 0
        options.maxHAMTFanout = 256
        options.hamtThreshold = 262_144
        switch self {
        case .unixfsV0_2015, .legacyCidV0:
            options.cidVersion = 0
            options.rawLeaves = false
            options.chunker = "size-262144"
            options.maxFileLinks = 174
            options.hamtEstimation = .links
        case .unixfsV1_2025:
            options.cidVersion = 1
            options.rawLeaves = true
            options.chunker = "size-1048576"
            options.maxFileLinks = 1024
            options.hamtEstimation = .block
        }
        return options
    }
}

/// A refused option or option combination: a stable `code` and a one-line `message`
/// (spec/api.md §4).
public typealias ImportOptionsError = CairnFailure<ImportOptionsErrorCode>

/// The kind of refusal: a struct with static members so codes can be added later.
public struct ImportOptionsErrorCode: ErrorCode {
    public let rawValue: UInt8
    init(_ raw: UInt8) { self.rawValue = raw }

    /// A value out of its range or of the wrong form (not a number, not a boolean).
    public static let invalidValue = ImportOptionsErrorCode(1)
    /// A name that is not known: an option, a profile, a hash function, a CID version.
    public static let unknownName = ImportOptionsErrorCode(2)
    /// Options that cannot be used together, or one that needs another.
    public static let conflict = ImportOptionsErrorCode(3)

    public static let names = ["invalid value", "unknown name", "conflict"]
}

/// Kubo's `ipfs add` options as given (nil = not given), resolved by Kubo's precedence rules
/// (`ipfs/kubo:core/commands/add.go`): explicit flag > profile (configured) value > built-in
/// default, then the implications: a hash other than sha2-256 makes the CID version 1 (an
/// explicit 0 is an error); CIDv1 turns raw leaves on unless raw leaves were set.
public struct ImportOptions: Hashable, Sendable {
    public var profile: ImportProfile?
    public var chunker: String?
    public var trickle: Bool?
    public var rawLeaves: Bool?
    public var cidVersion: Int?
    public var hash: String?
    public var inline: Bool = false
    public var inlineLimit: Int?
    public var maxFileLinks: Int?
    /// `--max-directory-links` / `Import.UnixFSDirectoryMaxLinks` (0 = no limit).
    public var maxDirectoryLinks: Int?
    /// `--max-hamt-fanout` / `Import.UnixFSHAMTDirectoryMaxFanout`.
    public var maxHAMTFanout: Int?
    /// `Import.UnixFSHAMTDirectorySizeThreshold` in bytes (config only in Kubo; 0 = never shard).
    public var hamtThreshold: Int?
    /// `Import.UnixFSHAMTDirectorySizeEstimation` (config only in Kubo).
    public var hamtEstimation: DirectorySizeEstimation?
    /// `--preserve-mode`.
    public var preserveMode: Bool = false
    /// `--preserve-mtime`.
    public var preserveMtime: Bool = false
    /// `--mode` (permission bits; 0 = not given, as in Kubo).
    public var mode: UInt32?
    /// `--mtime` seconds (0 = not given, as in Kubo).
    public var mtime: Int64?
    /// `--mtime-nsecs` (only with `--mtime`).
    public var mtimeNanoseconds: UInt32?

    public init() {}

    public func resolve() throws(ImportOptionsError) -> ImportParameters {
        let configured = profile?.configuredOptions ?? ImportOptions()
        var result = ImportParameters()

        let chunkerText = chunker ?? configured.chunker ?? "size-262144"
        do {
            result.chunker = try ChunkerSpec(parsing: chunkerText)
        } catch {
            throw ImportOptionsError(.invalidValue, error.description)
        }
        result.layout = (trickle ?? configured.trickle ?? false) ? .trickle : .balanced
        if let links = maxFileLinks ?? configured.maxFileLinks { result.maxLinks = links }

        let hashName = (hash ?? configured.hash ?? "sha2-256").lowercased()
        guard let algorithm = HashAlgorithm(name: hashName) else {
            throw ImportOptionsError(.unknownName, "unrecognized hash function \"\(hashName)\" (supported: \(HashAlgorithm.allCases.map(\.name).joined(separator: ", ")))")
        }
        result.hashAlgorithm = algorithm

        var version = cidVersion ?? configured.cidVersion
        if let given = version, given != 0 && given != 1 {
            throw ImportOptionsError(.unknownName, "unknown CID version \(given) (only 0 and 1 exist)")
        }
        if algorithm != .sha2_256 {
            if version == 0 {
                throw ImportOptionsError(.conflict, "CIDv0 only supports sha2-256, not \(algorithm.name)")
            }
            version = 1
        }
        result.cidVersion = (version ?? 0) == 1 ? .v1 : .v0
        result.rawLeaves = rawLeaves ?? configured.rawLeaves ?? (result.cidVersion == .v1)

        result.directory.maxLinks = maxDirectoryLinks ?? configured.maxDirectoryLinks ?? 0
        result.directory.hamtFanout = maxHAMTFanout ?? configured.maxHAMTFanout ?? DirectoryParameters.defaultFanout
        result.directory.hamtThreshold = hamtThreshold ?? configured.hamtThreshold ?? DirectoryParameters.defaultThreshold
        result.directory.estimation = hamtEstimation ?? configured.hamtEstimation ?? .links

        // Kubo: mode/mtime need a dag-pb root, so raw leaves go off unless --raw-leaves=true
        // was given, which is an error (ipfs/kubo core/commands/add.go).
        if mtimeNanoseconds != nil && (mtime ?? 0) == 0 {
            throw ImportOptionsError(.conflict, "option --mtime-nsecs needs --mtime")
        }
        if let nanos = mtimeNanoseconds, nanos >= 1_000_000_000 {
            throw ImportOptionsError(.invalidValue, "--mtime-nsecs must be below 1000000000, got \(nanos)")
        }
        let customMode = (mode ?? 0) != 0 ? mode : nil
        let customTime = (mtime ?? 0) != 0 ? UnixFSTime(seconds: mtime!, nanoseconds: mtimeNanoseconds ?? 0) : nil
        result.metadata = MetadataPolicy(preserveMode: preserveMode, preserveMtime: preserveMtime, mode: customMode, mtime: customTime)
        if !result.metadata.isNone {
            if rawLeaves == true {
                throw ImportOptionsError(.conflict, "--raw-leaves can't be used with UnixFS metadata like mode or modification time")
            }
            result.rawLeaves = false
        }

        if inline {
            let limit = inlineLimit ?? ImportParameters.defaultInlineLimit
            guard limit <= ImportParameters.maxInlineLimit else {
                throw ImportOptionsError(.invalidValue, "inline-limit \(limit) exceeds the maximum of \(ImportParameters.maxInlineLimit) bytes")
            }
            result.inlineLimit = max(0, limit)
        }
        try result.validate()
        return result
    }
}

extension ImportParameters {
    /// A root of the shape this import will produce, with an all-zero digest: a CIDv0 or a
    /// dag-pb CIDv1 with the parameters' hash (raw-leaf roots of single-chunk files have the
    /// same length). A CAR written while importing reserves its header with it.
    public var placeholderRoot: CID {
        let length = hashAlgorithm.digestLength ?? 32
        let zeros = [UInt8](repeating: 0, count: length)
        let code = Multicodec(rawValue: hashAlgorithm.multihashCode)!
        let multihash = try! Multihash(code: code, digest: zeros)
        if cidVersion == .v0, let v0 = try? CID.v0(multihash) { return v0 }
        return CID.v1(codec: .dagPB, multihash: multihash)
    }
}
