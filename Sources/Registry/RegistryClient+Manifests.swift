import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import OCI
import Streams

extension RegistryClient {
  /// Fetches a manifest or index by tag or digest; nil when the registry has none under that reference.
  public func manifest(repository: String, reference: String) async throws -> (bytes: Data, mediaType: String)? {
    let operation = "fetch manifest \(host)/\(repository):\(reference)"
    let response = try await send(operation: operation, scope: Self.pushScope(repository)) {
      var request = HTTPClientRequest(url: url("\(repository)/manifests/\(reference)"))
      request.headers.add(name: "Accept", value: MediaType.allManifests.joined(separator: ", "))
      return request
    }
    if response.status.code == 404 {
      _ = try? await response.body.collect(upTo: 1 << 16)
      return nil
    }
    guard response.status.code == 200 else { throw await error(for: response, operation: operation) }
    guard let body = try? await response.body.collect(upTo: maximumDocumentSize) else {
      throw RegistryError(
        operation: operation, registry: host, reason: .protocolViolation("manifest over 4 MiB or cut off"))
    }
    let mediaType = response.headers.first(name: "Content-Type")?.split(separator: ";").first.map(String.init) ?? ""
    return (Data(buffer: body), mediaType)
  }

  /// Stores a manifest under a tag or digest; returns the digest the registry reports.
  public func putManifest(repository: String, reference: String, bytes: Data, mediaType: String) async throws -> Digest
  {
    let operation = "put manifest \(host)/\(repository):\(reference)"
    let (response, _) = try await call(
      operation: operation, scope: Self.pushScope(repository), expect: [200, 201, 202]
    ) {
      var request = HTTPClientRequest(url: url("\(repository)/manifests/\(reference)"))
      request.method = .PUT
      request.headers.add(name: "Content-Type", value: mediaType)
      request.headers.add(name: "Content-Length", value: String(bytes.count))
      request.body = .bytes(ByteBuffer(bytes: bytes))
      return request
    }
    let computed = Digest(sha256Bytes: SHA256Hasher.hash(Array(bytes)))
    guard let header = response.headers.first(name: "Docker-Content-Digest") else { return computed }
    guard let reported = try? Digest(header) else {
      throw RegistryError(
        operation: operation, registry: host,
        reason: .protocolViolation("Docker-Content-Digest \(header.prefix(80)) is not a digest"))
    }
    return reported
  }
}
