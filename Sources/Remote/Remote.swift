/// Opens the backend an address names (spec/remote.md §1).
public func openRemote(_ address: RemoteAddress, settings: RemoteSettings) throws(RemoteError) -> any RemoteBlockHolder {
    switch address.kind {
    case .kubo: KuboBlockHolder(address: address, settings: settings)
    case .gateway: GatewayBlockHolder(address: address, settings: settings)
    case .cluster: ClusterBlockHolder(address: address, settings: settings)
    }
}
