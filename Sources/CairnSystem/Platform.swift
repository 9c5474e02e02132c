// The platform's C library, imported once for every module: `import CairnSystem` brings
// Glibc, Musl or Darwin into scope, instead of an `#if canImport(...)` block in every file.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#elseif canImport(Darwin)
@_exported import Darwin
#endif
