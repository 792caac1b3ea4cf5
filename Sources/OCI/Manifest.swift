import Foundation

/// A single-image manifest, OCI or Docker schema 2 (the two share this shape).
public struct Manifest: Codable, Hashable, Sendable {
  public var schemaVersion: Int
  public var mediaType: String?
  public var artifactType: String?
  public var config: Descriptor
  public var layers: [Descriptor]
  public var subject: Descriptor?
  public var annotations: [String: String]?

  public init(mediaType: String, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
    self.schemaVersion = 2
    self.mediaType = mediaType
    self.config = config
    self.layers = layers
    self.annotations = annotations
  }

  enum CodingKeys: String, CodingKey {
    case schemaVersion, mediaType, artifactType, config, layers, subject, annotations
  }

  /// Reads `"layers": null` or no `layers` (an artifact's manifest as some tools write it) as no layers.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
    mediaType = try c.decodeIfPresent(String.self, forKey: .mediaType)
    artifactType = try c.decodeIfPresent(String.self, forKey: .artifactType)
    config = try c.decode(Descriptor.self, forKey: .config)
    layers = try c.decodeIfPresent([Descriptor].self, forKey: .layers) ?? []
    subject = try c.decodeIfPresent(Descriptor.self, forKey: .subject)
    annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations)
  }

  /// Decodes manifest bytes, naming `what` in the error.
  public static func decode(_ data: Data, what: String) throws(OCIError) -> Manifest {
    let manifest: Manifest = try decodeDocument(data, what: what)
    guard manifest.schemaVersion == 2 else {
      throw .invalidDocument(what: what, reason: "schemaVersion \(manifest.schemaVersion) is not supported")
    }
    return manifest
  }

  /// The canonical bytes hoist writes for a manifest it builds: keys sorted, no insignificant space,
  /// so the same manifest always has the same digest.
  public func encoded() -> Data { encodeDocument(self) }
}

/// An image index or Docker manifest list.
public struct Index: Codable, Hashable, Sendable {
  public var schemaVersion: Int
  public var mediaType: String?
  public var artifactType: String?
  public var manifests: [Descriptor]
  public var subject: Descriptor?
  public var annotations: [String: String]?

  public init(mediaType: String, manifests: [Descriptor], annotations: [String: String]? = nil) {
    self.schemaVersion = 2
    self.mediaType = mediaType
    self.manifests = manifests
    self.annotations = annotations
  }

  enum CodingKeys: String, CodingKey {
    case schemaVersion, mediaType, artifactType, manifests, subject, annotations
  }

  /// Reads `"manifests": null` or no `manifests` (an empty layout as some tools write it) as no entries.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
    mediaType = try c.decodeIfPresent(String.self, forKey: .mediaType)
    artifactType = try c.decodeIfPresent(String.self, forKey: .artifactType)
    manifests = try c.decodeIfPresent([Descriptor].self, forKey: .manifests) ?? []
    subject = try c.decodeIfPresent(Descriptor.self, forKey: .subject)
    annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations)
  }

  /// Decodes index bytes, naming `what` in the error.
  public static func decode(_ data: Data, what: String) throws(OCIError) -> Index {
    let index: Index = try decodeDocument(data, what: what)
    guard index.schemaVersion == 2 else {
      throw .invalidDocument(what: what, reason: "schemaVersion \(index.schemaVersion) is not supported")
    }
    return index
  }

  /// The canonical bytes hoist writes for an index it builds.
  public func encoded() -> Data { encodeDocument(self) }
}

/// The parts of an image configuration hoist reads; the bytes themselves are always kept as they are.
public struct ImageConfig: Decodable, Sendable {
  public struct RootFS: Decodable, Sendable {
    public var type: String
    public var diffIDs: [Digest]
    enum CodingKeys: String, CodingKey {
      case type
      case diffIDs = "diff_ids"
    }

    /// Reads `"diff_ids": null` (an image of no layers) as none.
    public init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      type = try c.decodeIfPresent(String.self, forKey: .type) ?? "layers"
      diffIDs = try c.decodeIfPresent([Digest].self, forKey: .diffIDs) ?? []
    }
  }
  public var architecture: String?
  public var os: String?
  public var variant: String?
  public var osVersion: String?
  public var rootfs: RootFS

  enum CodingKeys: String, CodingKey {
    case architecture, os, variant, rootfs
    case osVersion = "os.version"
  }

  /// The platform the config says the image is for, when it names its OS and architecture.
  public var platform: Platform? {
    guard let os, let architecture else { return nil }
    var platform = Platform(os: os, architecture: architecture, variant: variant)
    platform.osVersion = osVersion
    return platform
  }

  /// Decodes config bytes, naming `what` in the error.
  public static func decode(_ data: Data, what: String) throws(OCIError) -> ImageConfig {
    try decodeDocument(data, what: what)
  }
}

/// The most a manifest, index or config may weigh before hoist refuses it (registries cap manifests at 4 MiB).
public let maximumDocumentSize = 4 << 20

func decodeDocument<T: Decodable>(_ data: Data, what: String) throws(OCIError) -> T {
  guard data.count <= maximumDocumentSize else {
    throw .invalidDocument(what: what, reason: "\(data.count) bytes is over the 4 MiB limit")
  }
  do {
    return try JSONDecoder().decode(T.self, from: data)
  } catch let error as OCIError {
    throw .invalidDocument(what: what, reason: error.description)
  } catch let DecodingError.keyNotFound(key, context) {
    throw .invalidDocument(what: what, reason: "missing \(path(context.codingPath + [key]))")
  } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
    throw .invalidDocument(what: what, reason: "wrong type at \(path(context.codingPath))")
  } catch let DecodingError.dataCorrupted(context) {
    if let underlying = context.underlyingError as? OCIError {
      throw .invalidDocument(what: what, reason: underlying.description)
    }
    throw .invalidDocument(
      what: what, reason: context.codingPath.isEmpty ? "not valid JSON" : "bad value at \(path(context.codingPath))")
  } catch {
    throw .invalidDocument(what: what, reason: "not valid JSON")
  }
}

private func path(_ keys: [any CodingKey]) -> String {
  keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
}

func encodeDocument<T: Encodable>(_ value: T) -> Data {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
  // Encoding value types made of strings and numbers cannot fail.
  return try! encoder.encode(value)
}
