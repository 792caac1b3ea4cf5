import Foundation
import OCI
import Streams

/// Opens whatever image a path holds: an OCI layout folder, an OCI layout tar, or a `docker save` tarball
/// (plain or compressed).
public enum ArchiveSource {
  /// The source for `path`; `image` picks one image when the archive holds several.
  public static func open(path: String, image: String?) throws -> any ImageSource {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw ArchiveError.unrecognized(path: path, reason: "no such file or directory")
    }
    if isDirectory.boolValue {
      return OCILayoutSource(files: DirectoryFiles(path: path), image: image)
    }
    let archive = try TarArchive(path: path)
    if try archive.resolve("manifest.json") != nil {
      return try DockerArchiveSource(archive: archive, image: image)
    }
    if try archive.resolve("index.json") != nil {
      return OCILayoutSource(files: TarFiles(archive: archive), image: image)
    }
    throw ArchiveError.unrecognized(
      path: path, reason: "neither a docker save tarball (no manifest.json) nor an OCI layout (no index.json)")
  }

  /// The names the images in `path` go by (docker's RepoTags, else the OCI ref-name annotation), in order.
  public static func imageNames(path: String) throws -> [String] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw ArchiveError.unrecognized(path: path, reason: "no such file or directory")
    }
    if isDirectory.boolValue {
      return try OCILayoutSource(files: DirectoryFiles(path: path), image: nil).index().manifests.compactMap(\.refName)
    }
    let files = TarFiles(archive: try TarArchive(path: path))
    if try files.exists("manifest.json") {
      return try DockerArchiveResolver(files: files, selector: nil).names()
    }
    return try OCILayoutSource(files: files, image: nil).index().manifests.compactMap(\.refName)
  }
}
