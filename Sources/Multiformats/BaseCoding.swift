// The encoders and decoders behind `Multibase`. Everything here works on raw UTF-8 / byte
// buffers with table lookups; the public `Multibase` API wraps it for `String` and `[UInt8]`.

/// Invalid entry in a decode table.
@usableFromInline let invalidDigit: UInt8 = 0xFF

/// How one multibase encodes bytes.
@usableFromInline
enum BaseKind: Sendable {
    /// The bytes themselves (multibase prefix NUL).
    case identity
    /// Two hex digits per byte.
    case base16
    /// RFC 4648 bit packing: 5 bits per character (base32 family) or 6 (base64 family).
    case packed(bitsPerChar: Int)
    /// Big-number conversion to radix 36 or 58; each leading zero byte is one zero digit.
    case radix(UInt64)
}

/// One multibase: its name, prefix, alphabet and rules. Immutable and shared.
@usableFromInline
final class BaseSpec: Sendable {
    @usableFromInline let name: String
    @usableFromInline let prefix: UInt8
    @usableFromInline let kind: BaseKind
    @usableFromInline let padded: Bool
    /// Digit value -> character.
    @usableFromInline let alphabet: [UInt8]
    /// Character -> digit value, `invalidDigit` for characters outside the alphabet.
    @usableFromInline let table: [UInt8]

    init(_ name: String, _ prefix: Unicode.Scalar, _ kind: BaseKind, _ alphabet: String,
         padded: Bool = false, caseInsensitive: Bool = false) {
        self.name = name
        self.prefix = UInt8(prefix.value)
        self.kind = kind
        self.padded = padded
        self.alphabet = Array(alphabet.utf8)
        var table = [UInt8](repeating: invalidDigit, count: 256)
        for (value, char) in self.alphabet.enumerated() {
            table[Int(char)] = UInt8(value)
            if caseInsensitive {
                if char >= UInt8(ascii: "a") && char <= UInt8(ascii: "z") { table[Int(char - 32)] = UInt8(value) }
                if char >= UInt8(ascii: "A") && char <= UInt8(ascii: "Z") { table[Int(char + 32)] = UInt8(value) }
            }
        }
        self.table = table
    }

    // MARK: Sizes

    /// An upper bound for the encoded length (without prefix) of `count` bytes.
    @usableFromInline
    func maxEncodedLength(_ count: Int) -> Int {
        switch kind {
        case .identity: return count
        case .base16: return count * 2
        case .packed(let bits):
            let perGroupBytes = bits == 5 ? 5 : 3, perGroupChars = bits == 5 ? 8 : 4
            if padded { return (count + perGroupBytes - 1) / perGroupBytes * perGroupChars }
            return (count * 8 + bits - 1) / bits
        case .radix(let r):
            // log(256)/log(58) = 1.3657..., log(256)/log(36) = 1.5474...
            return (count * (r == 58 ? 137 : 155) + 99) / 100 + 1
        }
    }

    /// An upper bound for the decoded length of `count` characters (without prefix).
    @usableFromInline
    func maxDecodedLength(_ count: Int) -> Int {
        switch kind {
        case .identity, .radix: return count
        case .base16: return count / 2
        case .packed(let bits): return count * bits / 8
        }
    }

    // MARK: Encoding

    /// Encodes `input` into `output` (at least `maxEncodedLength(input.count)` bytes); returns
    /// the number of characters written.
    @usableFromInline
    func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        precondition(output.count >= maxEncodedLength(input.count), "multibase output buffer too small")
        return alphabet.withUnsafeBufferPointer { alphabet in
            switch kind {
            case .identity:
                if input.count > 0 { output.baseAddress!.initialize(from: input.bindMemory(to: UInt8.self).baseAddress!, count: input.count) }
                return input.count
            case .base16:
                var o = 0
                for byte in input {
                    output[o] = alphabet[Int(byte >> 4)]
                    output[o + 1] = alphabet[Int(byte & 0x0F)]
                    o += 2
                }
                return o
            case .packed(let bits):
                return bits == 5
                    ? encodeBase32(input, output, alphabet, padded: padded)
                    : encodeBase64(input, output, alphabet, padded: padded)
            case .radix(let r):
                return encodeRadix(input, output, alphabet, radix: r)
            }
        }
    }

    // MARK: Decoding

    /// Decodes the characters `input` into `output` (at least `maxDecodedLength(input.count)`
    /// bytes); returns the number of bytes written. Error offsets are `offsetBase` + the index
    /// into `input`.
    @usableFromInline
    func decode(
        _ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>, offsetBase: Int
    ) throws(MultiformatsError) -> Int {
        precondition(output.count >= maxDecodedLength(input.count), "multibase output buffer too small")
        let result: Result<Int, MultiformatsError> = table.withUnsafeBufferPointer { table in
            Result { () throws(MultiformatsError) -> Int in
                switch kind {
                case .identity:
                    if input.count > 0 { output.baseAddress!.initialize(from: input.baseAddress!, count: input.count) }
                    return input.count
                case .base16:
                    return try decodeBase16(input, output, table)
                case .packed(let bits):
                    return bits == 5 ? try decodeBase32(input, output, table) : try decodeBase64(input, output, table)
                case .radix(let r):
                    return try decodeRadix(input, output, table, radix: r)
                }
            }
        }
        do {
            return try result.get()
        } catch {
            throw error.shifted(by: offsetBase)
        }
    }

    @usableFromInline
    func invalidCharacter(_ byte: UInt8, at offset: Int) -> MultiformatsError {
        if byte == UInt8(ascii: "=") {
            return MultiformatsError(.invalidPadding,
                padded ? "misplaced '=' padding in \(name)" : "unexpected '=' padding in unpadded \(name)",
                offset: offset)
        }
        return MultiformatsError(.invalidCharacter, "invalid \(name) character \(describeByte(byte))", offset: offset)
    }

    /// Finds the first character in `input[range]` whose table entry is invalid.
    @usableFromInline
    func firstInvalid(_ input: UnsafeBufferPointer<UInt8>, _ table: UnsafeBufferPointer<UInt8>,
                      _ range: Range<Int>) -> MultiformatsError {
        for i in range where table[Int(input[i])] == invalidDigit {
            return invalidCharacter(input[i], at: i)
        }
        preconditionFailure("firstInvalid called on valid input")
    }

    // MARK: base16

    @inline(__always)
    func decodeBase16(_ input: UnsafeBufferPointer<UInt8>, _ output: UnsafeMutableBufferPointer<UInt8>,
                      _ table: UnsafeBufferPointer<UInt8>) throws(MultiformatsError) -> Int {
        guard input.count % 2 == 0 else {
            throw MultiformatsError(.invalidLength, "\(name) text has an odd number of digits (\(input.count))", offset: input.count)
        }
        var o = 0, i = 0
        while i < input.count {
            let hi = table[Int(input[i])], lo = table[Int(input[i + 1])]
            guard (hi | lo) & 0xF0 == 0 else { throw firstInvalid(input, table, i..<(i + 2)) }
            output[o] = hi << 4 | lo
            o += 1
            i += 2
        }
        return o
    }

    // MARK: base32 (RFC 4648 §6/§7 and z-base-32: 5 bytes <-> 8 characters)

    @inline(__always)
    func encodeBase32(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableBufferPointer<UInt8>,
                      _ alphabet: UnsafeBufferPointer<UInt8>, padded: Bool) -> Int {
        var i = 0, o = 0
        let n = input.count
        while i + 5 <= n {
            let v = UInt64(input[i]) << 32 | UInt64(input[i + 1]) << 24 | UInt64(input[i + 2]) << 16
                | UInt64(input[i + 3]) << 8 | UInt64(input[i + 4])
            output[o] = alphabet[Int(v >> 35 & 31)]
            output[o + 1] = alphabet[Int(v >> 30 & 31)]
            output[o + 2] = alphabet[Int(v >> 25 & 31)]
            output[o + 3] = alphabet[Int(v >> 20 & 31)]
            output[o + 4] = alphabet[Int(v >> 15 & 31)]
            output[o + 5] = alphabet[Int(v >> 10 & 31)]
            output[o + 6] = alphabet[Int(v >> 5 & 31)]
            output[o + 7] = alphabet[Int(v & 31)]
            i += 5
            o += 8
        }
        let rest = n - i
        if rest > 0 {
            var v: UInt64 = 0
            for k in 0..<rest { v |= UInt64(input[i + k]) << (32 - 8 * k) }
            let chars = (rest * 8 + 4) / 5  // 1->2, 2->4, 3->5, 4->7
            for k in 0..<chars { output[o + k] = alphabet[Int(v >> (35 - 5 * k) & 31)] }
            o += chars
            if padded {
                for _ in chars..<8 { output[o] = UInt8(ascii: "="); o += 1 }
            }
        }
        return o
    }

    @inline(__always)
    func decodeBase32(_ input: UnsafeBufferPointer<UInt8>, _ output: UnsafeMutableBufferPointer<UInt8>,
                      _ table: UnsafeBufferPointer<UInt8>) throws(MultiformatsError) -> Int {
        let dataCount = try dataLength(input, group: 8, validRemainders: [0, 2, 4, 5, 7])
        var i = 0, o = 0
        while i + 8 <= dataCount {
            let a = table[Int(input[i])], b = table[Int(input[i + 1])], c = table[Int(input[i + 2])],
                d = table[Int(input[i + 3])], e = table[Int(input[i + 4])], f = table[Int(input[i + 5])],
                g = table[Int(input[i + 6])], h = table[Int(input[i + 7])]
            guard (a | b | c | d | e | f | g | h) & 0xE0 == 0 else { throw firstInvalid(input, table, i..<(i + 8)) }
            let v = UInt64(a) << 35 | UInt64(b) << 30 | UInt64(c) << 25 | UInt64(d) << 20
                | UInt64(e) << 15 | UInt64(f) << 10 | UInt64(g) << 5 | UInt64(h)
            output[o] = UInt8(truncatingIfNeeded: v >> 32)
            output[o + 1] = UInt8(truncatingIfNeeded: v >> 24)
            output[o + 2] = UInt8(truncatingIfNeeded: v >> 16)
            output[o + 3] = UInt8(truncatingIfNeeded: v >> 8)
            output[o + 4] = UInt8(truncatingIfNeeded: v)
            i += 8
            o += 5
        }
        let rest = dataCount - i
        if rest > 0 {
            var v: UInt64 = 0
            for k in 0..<rest {
                let d = table[Int(input[i + k])]
                guard d & 0xE0 == 0 else { throw invalidCharacter(input[i + k], at: i + k) }
                v |= UInt64(d) << (35 - 5 * k)
            }
            let bytes = rest * 5 / 8  // 2->1, 4->2, 5->3, 7->4
            // The bits after the last whole byte must be zero.
            let usedBits = 40 - bytes * 8
            guard v & ((1 << UInt64(usedBits)) - 1) == 0 else {
                throw MultiformatsError(.nonCanonical, "\(name) text has non-zero unused bits in its last character", offset: dataCount - 1)
            }
            for k in 0..<bytes { output[o + k] = UInt8(truncatingIfNeeded: v >> (32 - 8 * k)) }
            o += bytes
        }
        return o
    }

    /// Checks length and padding of an RFC 4648 text and returns the number of data characters
    /// (before any padding).
    @inline(__always)
    func dataLength(_ input: UnsafeBufferPointer<UInt8>, group: Int, validRemainders: [Int]) throws(MultiformatsError) -> Int {
        var dataCount = input.count
        if padded {
            while dataCount > 0 && input[dataCount - 1] == UInt8(ascii: "=") { dataCount -= 1 }
            let padCount = input.count - dataCount
            guard input.count % group == 0 else {
                throw MultiformatsError(.invalidPadding,
                    "\(name) text length \(input.count) is not a multiple of \(group) (padding missing or wrong)",
                    offset: input.count)
            }
            let remainder = dataCount % group
            guard validRemainders.contains(remainder) else {
                throw MultiformatsError(.invalidLength, "\(name) text has an impossible length", offset: dataCount)
            }
            let expectedPad = remainder == 0 ? 0 : group - remainder
            guard padCount == expectedPad else {
                throw MultiformatsError(.invalidPadding,
                    "\(name) text has \(padCount) padding characters, expected \(expectedPad)", offset: dataCount)
            }
        } else {
            guard validRemainders.contains(dataCount % group) else {
                var firstPad = dataCount
                while firstPad > 0 && input[firstPad - 1] == UInt8(ascii: "=") { firstPad -= 1 }
                if firstPad < dataCount {
                    throw MultiformatsError(.invalidPadding, "unexpected '=' padding in unpadded \(name)", offset: firstPad)
                }
                throw MultiformatsError(.invalidLength,
                    "\(name) text length \(dataCount) is impossible (remainder \(dataCount % group) mod \(group))",
                    offset: dataCount)
            }
        }
        return dataCount
    }

    // MARK: base64 (RFC 4648 §4/§5: 3 bytes <-> 4 characters)

    @inline(__always)
    func encodeBase64(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableBufferPointer<UInt8>,
                      _ alphabet: UnsafeBufferPointer<UInt8>, padded: Bool) -> Int {
        var i = 0, o = 0
        let n = input.count
        while i + 3 <= n {
            let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            output[o] = alphabet[Int(v >> 18 & 63)]
            output[o + 1] = alphabet[Int(v >> 12 & 63)]
            output[o + 2] = alphabet[Int(v >> 6 & 63)]
            output[o + 3] = alphabet[Int(v & 63)]
            i += 3
            o += 4
        }
        let rest = n - i
        if rest > 0 {
            var v = UInt32(input[i]) << 16
            if rest == 2 { v |= UInt32(input[i + 1]) << 8 }
            output[o] = alphabet[Int(v >> 18 & 63)]
            output[o + 1] = alphabet[Int(v >> 12 & 63)]
            o += 2
            if rest == 2 { output[o] = alphabet[Int(v >> 6 & 63)]; o += 1 }
            if padded {
                for _ in 0..<(3 - rest) { output[o] = UInt8(ascii: "="); o += 1 }
            }
        }
        return o
    }

    @inline(__always)
    func decodeBase64(_ input: UnsafeBufferPointer<UInt8>, _ output: UnsafeMutableBufferPointer<UInt8>,
                      _ table: UnsafeBufferPointer<UInt8>) throws(MultiformatsError) -> Int {
        let dataCount = try dataLength(input, group: 4, validRemainders: [0, 2, 3])
        var i = 0, o = 0
        while i + 4 <= dataCount {
            let a = table[Int(input[i])], b = table[Int(input[i + 1])], c = table[Int(input[i + 2])],
                d = table[Int(input[i + 3])]
            guard (a | b | c | d) & 0xC0 == 0 else { throw firstInvalid(input, table, i..<(i + 4)) }
            let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
            output[o] = UInt8(truncatingIfNeeded: v >> 16)
            output[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
            output[o + 2] = UInt8(truncatingIfNeeded: v)
            i += 4
            o += 3
        }
        let rest = dataCount - i
        if rest > 0 {
            var v: UInt32 = 0
            for k in 0..<rest {
                let d = table[Int(input[i + k])]
                guard d & 0xC0 == 0 else { throw invalidCharacter(input[i + k], at: i + k) }
                v |= UInt32(d) << (18 - 6 * k)
            }
            let bytes = rest - 1  // 2->1, 3->2
            guard v & ((1 << UInt32(24 - bytes * 8)) - 1) == 0 else {
                throw MultiformatsError(.nonCanonical, "\(name) text has non-zero unused bits in its last character", offset: dataCount - 1)
            }
            output[o] = UInt8(truncatingIfNeeded: v >> 16)
            if bytes == 2 { output[o + 1] = UInt8(truncatingIfNeeded: v >> 8) }
            o += bytes
        }
        return o
    }

    // MARK: base36 / base58 (big-number conversion)
    //
    // The number is held in 32-bit limbs, least significant first. Digits are processed in
    // groups whose value fits a limb (58^5 and 36^6 are below 2^32), so each step is one
    // multiply-add pass over the limbs.

    @inline(__always)
    static func group(for radix: UInt64) -> (digits: Int, value: UInt64) {
        radix == 58 ? (5, 656_356_768) : (6, 2_176_782_336)
    }

    @inline(__always)
    func encodeRadix(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableBufferPointer<UInt8>,
                     _ alphabet: UnsafeBufferPointer<UInt8>, radix: UInt64) -> Int {
        let n = input.count
        var zeros = 0
        while zeros < n && input[zeros] == 0 { zeros += 1 }
        let zeroChar = alphabet[0]
        for k in 0..<zeros { output[k] = zeroChar }
        if zeros == n { return zeros }
        let (groupDigits, groupValue) = BaseSpec.group(for: radix)
        let significant = n - zeros
        let capacity = significant * 2 / groupDigits + 2
        return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: capacity) { limbs in
            var count = 0
            var i = zeros
            var chunk = significant % 4
            if chunk == 0 { chunk = 4 }
            while i < n {
                var word: UInt64 = 0
                for k in 0..<chunk { word = word << 8 | UInt64(input[i + k]) }
                let shift = UInt64(8 * chunk)
                var carry = word
                for j in 0..<count {
                    let t = UInt64(limbs[j]) << shift | carry
                    limbs[j] = UInt32(truncatingIfNeeded: t % groupValue)
                    carry = t / groupValue
                }
                while carry > 0 {
                    limbs[count] = UInt32(truncatingIfNeeded: carry % groupValue)
                    carry /= groupValue
                    count += 1
                }
                i += chunk
                chunk = 4
            }
            // Digits of the most significant limb, without leading zeros.
            var top = UInt64(limbs[count - 1])
            var topDigits = 0
            while top > 0 { top /= radix; topDigits += 1 }
            let total = zeros + topDigits + (count - 1) * groupDigits
            var o = total
            for j in 0..<count {
                var v = UInt64(limbs[j])
                let digits = j == count - 1 ? topDigits : groupDigits
                for _ in 0..<digits {
                    o -= 1
                    output[o] = alphabet[Int(v % radix)]
                    v /= radix
                }
            }
            return total
        }
    }

    @inline(__always)
    func decodeRadix(_ input: UnsafeBufferPointer<UInt8>, _ output: UnsafeMutableBufferPointer<UInt8>,
                     _ table: UnsafeBufferPointer<UInt8>, radix: UInt64) throws(MultiformatsError) -> Int {
        let n = input.count
        var zeros = 0
        while zeros < n && table[Int(input[zeros])] == 0 { zeros += 1 }
        for k in 0..<zeros { output[k] = 0 }
        if zeros == n { return zeros }
        let (groupDigits, _) = BaseSpec.group(for: radix)
        let significant = n - zeros
        let capacity = significant * 6 / 32 + 2
        let result: Result<Int, MultiformatsError> = withUnsafeTemporaryAllocation(of: UInt32.self, capacity: capacity) { limbs in
            var count = 0
            var i = zeros
            var chunk = significant % groupDigits
            if chunk == 0 { chunk = groupDigits }
            while i < n {
                var value: UInt64 = 0
                var multiplier: UInt64 = 1
                for k in 0..<chunk {
                    let d = table[Int(input[i + k])]
                    guard UInt64(d) < radix else { return .failure(invalidCharacter(input[i + k], at: i + k)) }
                    value = value * radix + UInt64(d)
                    multiplier *= radix
                }
                var carry = value
                for j in 0..<count {
                    let t = UInt64(limbs[j]) * multiplier + carry
                    limbs[j] = UInt32(truncatingIfNeeded: t)
                    carry = t >> 32
                }
                while carry > 0 {
                    limbs[count] = UInt32(truncatingIfNeeded: carry)
                    carry >>= 32
                    count += 1
                }
                i += chunk
                chunk = groupDigits
            }
            // Big-endian bytes of the limbs, without leading zero bytes.
            var top = limbs[count - 1]
            var topBytes = 0
            while top > 0 { top >>= 8; topBytes += 1 }
            let total = zeros + topBytes + (count - 1) * 4
            var o = total
            for j in 0..<count {
                var v = limbs[j]
                for _ in 0..<(j == count - 1 ? topBytes : 4) {
                    o -= 1
                    output[o] = UInt8(truncatingIfNeeded: v)
                    v >>= 8
                }
            }
            return .success(total)
        }
        return try result.get()
    }
}
