import Testing
@testable import BlockStore
