import Engine
import OCI

/// The inputs of `cairn bench chunkers`' CORPUS arguments (spec/cli.md): an image layout (a
/// directory, an oci-archive, a docker-archive) becomes its layers, each as stored and as its
/// tar; any other path (a plain tar included) is one input. Engine is below OCI, so the layout
/// readers are wired in here, as `ChunkerBenchInput.stream`s.
enum BenchChunkersInputs {
    static func inputs(_ corpus: [String]) throws -> [ChunkerBenchInput] {
        var inputs: [ChunkerBenchInput] = []
        for argument in corpus {
            guard OCILayout.isLayout(argument) else {
                inputs.append(.path(argument))
                continue
            }
            let layout: OCILayout
            do { layout = try OCILayout(path: argument) } catch { throw CLIError(error.message) }
            if let issue = layout.issues.first { throw CLIError(issue.message) }
            var layers: [Int] = []
            for image in layout.images {
                for position in image.layers where !layers.contains(position) { layers.append(position) }
            }
            for (number, position) in layers.enumerated() {
                let blob = layout.blobs[position]
                let compression = blob.compression ?? .none
                let name = "\(argument)@layer-\(number + 1)"
                if compression != .none {
                    inputs.append(.stream(label: "\(name) (\(compression.rawValue))", bytes: blob.size.map { Int($0) }) {
                        try open(blob, of: layout, uncompressed: false)
                    })
                }
                inputs.append(.stream(label: "\(name) (tar)", bytes: compression == .none ? blob.size.map { Int($0) } : nil) {
                    try open(blob, of: layout, uncompressed: true)
                })
            }
        }
        return inputs
    }

    private static func open(_ blob: OCIBlob, of layout: OCILayout, uncompressed: Bool) throws -> ChunkerBenchStream {
        let stream: OCIBlobStream
        do { stream = try layout.openBlob(blob, uncompressed: uncompressed) } catch { throw CLIError(error.message) }
        return ChunkerBenchStream { buffer in
            do throws(OCIError) { return try stream.read(into: buffer) } catch { throw CLIError(error.message) }
        }
    }
}
