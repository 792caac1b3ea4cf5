import Foundation

/// What a manifest or index document says it is: its own `mediaType` field, or where the field is absent
/// (the OCI spec allows that), the OCI type its shape implies. The descriptor that pointed at a document
/// may say otherwise (go-containerregistry's layouts describe Docker manifests as OCI ones); the document
/// decides.
public struct DeclaredType: Sendable, Equatable {
  /// The media type the document declares or implies.
  public var mediaType: String
  /// Whether the document carries a top-level `mediaType` field.
  public var isExplicit: Bool

  public var isIndex: Bool { MediaType.isIndex(mediaType) }

  public init(mediaType: String, isExplicit: Bool) {
    self.mediaType = mediaType
    self.isExplicit = isExplicit
  }

  /// Reads the type of a manifest or index; nil for anything else (a Docker schema 1 manifest, an artifact
  /// type hoist does not know, not JSON).
  public init?(document: Data) {
    guard let object = try? JSONDecoder().decode(Shape.self, from: document) else { return nil }
    if let declared = object.mediaType {
      guard MediaType.isIndex(declared) || MediaType.isManifest(declared) else { return nil }
      mediaType = declared
      isExplicit = true
    } else if object.manifests?.array != nil {
      mediaType = MediaType.ociIndex
      isExplicit = false
    } else if object.config?.object != nil {
      mediaType = MediaType.ociManifest
      isExplicit = false
    } else {
      return nil
    }
  }

  /// The members of a document that tell its type: what they are is checked, not decoded.
  private struct Shape: Decodable {
    var mediaType: String?
    var manifests: JSONValue?
    var config: JSONValue?

    init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      mediaType = try? container.decodeIfPresent(String.self, forKey: .mediaType)
      manifests = try container.decodeIfPresent(JSONValue.self, forKey: .manifests)
      config = try container.decodeIfPresent(JSONValue.self, forKey: .config)
    }

    enum CodingKeys: String, CodingKey { case mediaType, manifests, config }
  }

  /// The document with a top-level `mediaType` field added after its opening brace, every other byte as
  /// it was (registries such as ECR refuse documents without the field).
  public static func addingField(_ mediaType: String, to document: Data) -> Data {
    guard let brace = document.firstIndex(of: UInt8(ascii: "{")) else { return document }
    var out = Data(document[...brace])
    out += Data(#""mediaType":"\#(mediaType)","#.utf8)
    let rest = document[document.index(after: brace)...]
    if rest.first(where: { !($0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09) }) == UInt8(ascii: "}") {
      out.removeLast()
    }
    out += rest
    return out
  }
}
