import ArgumentParser

/// `--pin[=BOOL]` and `--pin-name N` for the commands that add content to the local store
/// (`add`, `oci add`): declared once.
struct PinOptions: ParsableArguments {
    @Option(name: .long, help: "Pin each added root recursively (true, default) or not (false).")
    var pin: Bool = true

    @Option(name: .long, help: "Name for the pins of the added roots.")
    var pinName: String?
}
