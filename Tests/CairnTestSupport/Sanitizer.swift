import Foundation

/// The sanitizer the suite runs under, from `CAIRN_SANITIZER` (`address` or `thread`), which
/// `make sanitize` sets. A few tests measure what a sanitizer changes by design (peak RSS, with
/// shadow memory and quarantine) and are skipped under one; each says why.
public enum Sanitizer {
    public static let active: String? = {
        guard let name = ProcessInfo.processInfo.environment["CAIRN_SANITIZER"], !name.isEmpty else { return nil }
        return name
    }()

    /// How much longer a deadline in a test may be under a sanitizer (several times slower, and
    /// `make sanitize` runs at the lowest priority): 4, else 1.
    public static var deadlineScale: Int64 { active == nil ? 1 : 4 }
}
