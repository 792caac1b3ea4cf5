import Foundation

extension ImageConfig {
  /// Refuses config bytes described as an image config (OCI's or Docker's type) that are not a JSON object,
  /// which no runtime can read; a config of another type (an artifact's) may hold anything.
  public static func checkShape(_ data: Data, mediaType: String, what: String) throws(OCIError) {
    guard mediaType == MediaType.ociConfig || mediaType == MediaType.dockerConfig else { return }
    guard JSONValue.read(data)?.object != nil else {
      throw .invalidDocument(what: what, reason: "an image config that is not a JSON object")
    }
  }
}
