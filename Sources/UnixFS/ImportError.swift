/// A failure during an import (not a bad option): a read error, an impossible CID.
public struct ImportError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
