/// The one shape of every module's error (spec/api.md §4): a closed `code` to compare and a
/// one-line `message` for people. `description` is the message unless the type adds to it
/// (a byte offset, say).
///
/// This module sits below every other one (it imports nothing), so that `Multiformats`, the
/// lowest, can follow the shape too. A module that throws re-exports it
/// (`@_exported public import CairnErrors`), so that its callers read `code`, `message` and
/// `description` without importing this module themselves (`MemberImportVisibility`).
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

/// The error of a module whose failures are a code and a message and nothing else: the module
/// declares only its codes (`XErrorCode: ErrorCode`) and names the error
/// `public typealias XError = CairnFailure<XErrorCode>`. `XError.Code` is that code type, and
/// `description` is the message.
public struct CairnFailure<Code: ErrorCode>: CairnError {
    public let code: Code
    /// One line for people, naming the value or file at fault; no trailing period.
    public let message: String

    @inlinable
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
