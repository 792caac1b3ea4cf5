import Foundation
import OCI
import Streams

/// Opens whatever image a path holds: an OCI layout folder, an OCI layout tar, or a `docker save` tarball
/// (plain or compressed).
public enum ArchiveSource {
  /// The source for `path`; `image` picks one image when the archive holds several.
  public static func open(path: String, image: String?) throws -> any ImageSource {
    switch try kind(of: path) {
    case .layout(let files): OCILayoutSource(files: files, image: image)
    case .dockerArchive(let archive): try DockerArchiveSource(archive: archive, image: image)
    }
  }

  /// The names the images in `path` go by (docker's RepoTags, else the OCI ref-name annotation), in order.
  public static func imageNames(path: String) throws -> [String] {
    switch try kind(of: path) {
    case .layout(let files):
      try OCILayoutSource(files: files, image: nil).index().manifests.compactMap(\.refName)
    case .dockerArchive(let archive):
      try DockerArchiveResolver(files: TarFiles(archive: archive), selector: nil).names()
    }
  }

  private enum Kind {
    case layout(any LayoutFiles)
    case dockerArchive(TarArchive)
  }

  /// What `path` holds: an OCI layout (folder or tar) or a `docker save` tarball.
  private static func kind(of path: String) throws -> Kind {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw ArchiveError.unrecognized(path: path, reason: "no such file or directory")
    }
    if isDirectory.boolValue { return .layout(DirectoryFiles(path: path)) }
    let archive = try TarArchive(path: path)
    if try archive.resolve("manifest.json") != nil { return .dockerArchive(archive) }
    if try archive.resolve("index.json") != nil { return .layout(TarFiles(archive: archive)) }
    throw ArchiveError.unrecognized(
      path: path, reason: "neither a docker save tarball (no manifest.json) nor an OCI layout (no index.json)")
  }
}
