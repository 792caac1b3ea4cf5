import Foundation
import OCI

/// One platform's image of a source whose root is an index (a multi-platform OCI layout or archive), as
/// `copy --platform` takes it; a source whose root is a single image is given as it is.
public struct ChosenPlatform: ImageSource {
  private(set) var base: any ImageSource
  let wanted: Platform

  public init(_ base: any ImageSource, platform: Platform) {
    self.base = base
    self.wanted = platform
  }

  public var description: String { base.description }

  public func drawing(on budget: RetryBudget) -> any ImageSource {
    var copy = self
    copy.base = base.drawing(on: budget)
    return copy
  }

  public func root() async throws -> RootDocument { try await choosing(wanted, from: base.root()) }

  public func document(_ descriptor: Descriptor) async throws -> Data { try await base.document(descriptor) }

  public func openBlob(_ descriptor: Descriptor) async throws -> any BlobReader {
    try await base.openBlob(descriptor)
  }

  public func openBlob(_ descriptor: Descriptor, from offset: Int64) async throws -> any BlobReader {
    try await base.openBlob(descriptor, from: offset)
  }

  public var mountOrigin: MountOrigin? { base.mountOrigin }

  public func mountOrigin(of descriptor: Descriptor) -> MountOrigin? { base.mountOrigin(of: descriptor) }

  public func referrers(of subject: Digest, artifactType: String?) async throws -> [Referrer] {
    try await base.referrers(of: subject, artifactType: artifactType)
  }
}
