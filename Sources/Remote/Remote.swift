/// Opens the backend an address names (spec/remote.md §1). The IPFS Cluster backend is not
/// built yet: a `cluster+http(s)://` address is refused with `.unsupported`.
public func openRemote(_ address: RemoteAddress, settings: RemoteSettings) throws(RemoteError) -> any RemoteBlockHolder {
    switch address.kind {
    case .kubo: return KuboBlockHolder(address: address, settings: settings)
    case .gateway: return GatewayBlockHolder(address: address, settings: settings)
    case .cluster: throw RemoteError(.unsupported, "\(address): the IPFS Cluster backend is not available in this build; use its Kubo RPC proxy (http://HOST:9095)")
    }
}
