/// A reference to content by media type, digest and size (OCI image spec, descriptor.md).
public struct Descriptor: Codable, Hashable, Sendable {
  public var mediaType: String
  public var digest: Digest
  public var size: Int64
  public var urls: [String]?
  public var annotations: [String: String]?
  public var data: String?
  public var artifactType: String?
  public var platform: Platform?

  public init(
    mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil,
    platform: Platform? = nil
  ) {
    self.mediaType = mediaType
    self.digest = digest
    self.size = size
    self.annotations = annotations
    self.platform = platform
  }

  enum CodingKeys: String, CodingKey {
    case mediaType, digest, size, urls, annotations, data, artifactType, platform
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    mediaType = try c.decodeIfPresent(String.self, forKey: .mediaType) ?? ""
    digest = try c.decode(Digest.self, forKey: .digest)
    size = try c.decode(Int64.self, forKey: .size)
    guard size >= 0, size <= Descriptor.maximumBlobSize else {
      throw OCIError.invalidDocument(what: "descriptor \(digest)", reason: "size \(size) is out of range")
    }
    urls = try c.decodeIfPresent([String].self, forKey: .urls)
    annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations)
    data = try c.decodeIfPresent(String.self, forKey: .data)
    artifactType = try c.decodeIfPresent(String.self, forKey: .artifactType)
    platform = try c.decodeIfPresent(Platform.self, forKey: .platform)
  }

  /// The largest blob hoist accepts (1 TiB); anything claiming more is taken as hostile.
  public static let maximumBlobSize: Int64 = 1 << 40

  /// The `org.opencontainers.image.ref.name` annotation, if any.
  public var refName: String? { annotations?[Annotation.refName] }
}

/// Well-known annotation keys.
public enum Annotation {
  public static let refName = "org.opencontainers.image.ref.name"
  public static let containerdImageName = "io.containerd.image.name"
}
