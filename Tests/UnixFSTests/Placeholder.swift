import Testing
@testable import UnixFS
