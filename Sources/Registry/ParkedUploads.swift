import OCI

/// Upload sessions that broke off, by blob, for the next try of the same blob to continue; those left at
/// the end of a run are cancelled.
public actor ParkedUploads {
  struct Session {
    var location: String
    /// Bytes handed to the registry, and bytes it acknowledged.
    var sent: Int64
    var confirmed: Int64
  }

  private var sessions = [Digest: Session]()

  public init() {}

  func park(_ digest: Digest, _ session: Session) { sessions[digest] = session }

  func take(_ digest: Digest) -> Session? { sessions.removeValue(forKey: digest) }

  /// Cancels every session still parked (DELETE).
  func cancelAll(client: RegistryClient, repository: String) async {
    let left = sessions.values
    sessions = [:]
    for session in left { await RegistryUpload.delete(session.location, client: client, repository: repository) }
  }
}

/// The first `length` bytes of a reader.
final class PrefixReader: BlobReader, @unchecked Sendable {
  private let reader: any BlobReader
  private var left: Int64

  init(_ reader: any BlobReader, length: Int64) {
    self.reader = reader
    self.left = length
  }

  func read(maxLength: Int) async throws -> [UInt8] {
    guard left > 0 else { return [] }
    let bytes = try await reader.read(maxLength: Int(min(Int64(maxLength), left)))
    left -= Int64(bytes.count)
    return bytes
  }
}
