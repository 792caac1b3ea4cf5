import Foundation
import OCI
import Streams

/// skopeo's `dir:` format, laid out from the staging layout.
extension LayoutDestination {
  /// Lays the staging folder out as skopeo's `dir:` format and renames it into place: the image's manifest
  /// as `manifest.json`, the manifests an index names as `<hex>.manifest.json`, every other blob as `<hex>`.
  func commitDir() throws {
    guard entries.count == 1, let root = entries.first else {
      throw ArchiveError.invalid(
        path: path,
        reason: "a dir: folder holds exactly one image, not \(entries.count); write several as an OCI layout or archive"
      )
    }
    let manager = FileManager.default
    let blobs = staging + "/blobs/sha256"
    let manifestNames = Set(manifests.map(\.hex))
    for name in try manager.contentsOfDirectory(atPath: blobs) {
      let target =
        name == root.digest.hex ? "manifest.json" : manifestNames.contains(name) ? "\(name).manifest.json" : name
      try rename(blobs + "/" + name, to: staging + "/" + target)
    }
    try manager.removeItem(atPath: staging + "/blobs")
    try? manager.removeItem(atPath: staging + "/.hoist-uploads")
    try write(Data("Directory Transport Version: 1.1\n".utf8), to: staging + "/version")
    try rename(staging, to: path)
  }
}
