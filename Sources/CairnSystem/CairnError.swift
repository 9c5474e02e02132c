/// The one shape of every module's error (spec/api.md §4): a closed `code` to compare and a
/// one-line `message` for people. `description` is the message unless the type adds to it
/// (a byte offset, say); each type states it, so that its callers need not import this
/// module to read it (`MemberImportVisibility`).
public protocol CairnError: Error, Hashable, Sendable, CustomStringConvertible {
    associatedtype Code: ErrorCode
    var code: Code { get }
    var message: String { get }
}

/// A module's error codes: a struct with one static member per code, so that codes can be
/// added without breaking callers' `switch`es. Code n is named `names[n - 1]`.
public protocol ErrorCode: Hashable, Sendable, CustomStringConvertible {
    var rawValue: UInt8 { get }
    static var names: [String] { get }
}

extension ErrorCode {
    public var description: String {
        let index = Int(rawValue) - 1
        return Self.names.indices.contains(index) ? Self.names[index] : "code \(rawValue)"
    }
}
