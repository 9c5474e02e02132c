internal import CCairnSIMD

/// BLAKE3 (unkeyed, 32-byte digest) through Cairn's C kernels: whole chunks and parent nodes
/// are compressed 4, 8 or 16 at a time (SSE4.1, AVX2, AVX-512), chosen at run time
/// (`HashKernel.selected(for: .blake3)`, which `CAIRN_HASH_KERNEL` can force).
///
/// This is what `HashAlgorithm.blake3` uses. `BLAKE3` (portable Swift) stays as the reference
/// and for the keyed and extended-output modes.
public struct BLAKE3SIMD: HashFunction {
    public static var algorithm: HashAlgorithm { .blake3 }

    var state = ccairn_blake3_state()

    static let kernel: ccairn_blake3_kernel = HashKernel.selected(for: .blake3).blake3KernelID

    public init() {
        ccairn_blake3_init(&state, Self.kernel)
    }

    /// A hasher on a given kernel (for tests and benchmarks); an unsupported one runs portable.
    public init(kernel: HashKernel) {
        precondition(kernel.algorithm == .blake3, "not a BLAKE3 kernel: \(kernel)")
        ccairn_blake3_init(&state, kernel.blake3KernelID)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        ccairn_blake3_update(&state, base, bytes.count)
    }

    public func finalize() -> Digest {
        Digest(unsafeUninitializedCount: 32) { out in
            withUnsafePointer(to: state) { ccairn_blake3_finalize($0, out.baseAddress) }
        }
    }

    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest {
        hash(HashInput(bytes), kernel: kernel)
    }

    public static func hash(_ input: HashInput) -> Digest {
        hash(input, kernel: kernel)
    }

    /// One message on a given kernel: a single segment goes through the one-shot path (every
    /// level of the tree through the kernel), several through the streaming state.
    static func hash(_ input: HashInput, kernel: ccairn_blake3_kernel) -> Digest {
        Digest(unsafeUninitializedCount: 32) { out in
            if input.prefix.isEmpty && input.suffix.isEmpty {
                ccairn_blake3_hash(kernel, input.body.baseAddress, input.body.count, out.baseAddress)
                return
            }
            var state = ccairn_blake3_state()
            ccairn_blake3_init(&state, kernel)
            ccairn_blake3_update(&state, input.prefix.baseAddress, input.prefix.count)
            ccairn_blake3_update(&state, input.body.baseAddress, input.body.count)
            ccairn_blake3_update(&state, input.suffix.baseAddress, input.suffix.count)
            ccairn_blake3_finalize(&state, out.baseAddress)
        }
    }
}

extension HashKernel {
    /// The C kernel id of a BLAKE3 kernel (portable for anything else).
    var blake3KernelID: ccairn_blake3_kernel {
        if case .blake3(let id) = implementation { return ccairn_blake3_kernel(id) }
        return CCAIRN_BLAKE3_PORTABLE
    }
}
