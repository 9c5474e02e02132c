public import Multiformats

/// Path segments resolved inside one dag-cbor block (spec/gateway.md §3.1): map keys and array
/// indexes are followed until a link (tag 42) is met or the segments run out.
public enum CBORPath {
    public enum Outcome: Equatable, Sendable {
        /// A link reached after `consumed` segments.
        case link(CID, consumed: Int)
        /// The segments end inside the block, not on a link.
        case inside
        case notFound
    }

    /// The whole block is checked first with the strict structure walker (`DagCBOR.links(in:)`:
    /// no truncation, nothing after the item, nesting at most `DagCBOR.maxDepth`, links and
    /// tags as dag-cbor allows), as Kubo decodes a whole block before it walks a path in it: a
    /// block `dag/export` refuses is not pathed into either.
    public static func resolve(_ bytes: [UInt8], _ segments: ArraySlice<String>) throws(DagCBORError) -> Outcome {
        _ = try DagCBOR.links(in: bytes)
        var cursor = CBORReader(bytes)
        var consumed = 0
        for segment in segments {
            let (major, argument) = try cursor.head()
            switch major {
            case 5:  // map: find the key
                var found = false
                for _ in 0..<argument {
                    if try cursor.text() == segment { found = true; break }
                    try cursor.skip()
                }
                if !found { return .notFound }
            case 4:  // array: an index
                guard let index = UInt64(segment), index < argument else { return .notFound }
                for _ in 0..<index { try cursor.skip() }
            case 6 where argument == 42:
                return .link(try cursor.linkBody(), consumed: consumed)
            default:
                return .notFound
            }
            consumed += 1
        }
        let (major, argument) = try cursor.head()
        return major == 6 && argument == 42 ? .link(try cursor.linkBody(), consumed: consumed) : .inside
    }
}
