import Testing
@testable import CAR
