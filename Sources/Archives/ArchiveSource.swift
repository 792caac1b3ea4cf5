import Foundation
import OCI
import Streams

/// Opens whatever image a path holds: an OCI layout folder, an OCI layout tar, a `docker save` tarball
/// (plain or compressed), or a folder in skopeo's `dir:` format.
public enum ArchiveSource {
  /// The source for `path`; `image` picks one image when the archive holds several.
  public static func open(path: String, image: String?) throws -> any ImageSource {
    switch try kind(of: path) {
    case .layout(let files): OCILayoutSource(files: files, image: image)
    case .dockerArchive(let archive): try DockerArchiveSource(archive: archive, image: image)
    case .dir(let path): DirSource(path: path)
    }
  }

  /// The names the images in `path` go by (docker's RepoTags, else the OCI ref-name annotation), in order;
  /// the tags referrers live under are not images.
  public static func imageNames(path: String) throws -> [String] {
    switch try kind(of: path) {
    case .layout(let files):
      try OCILayoutSource(files: files, image: nil).images().compactMap(\.refName)
    case .dockerArchive(let archive):
      try DockerArchiveResolver(files: TarFiles(archive: archive), selector: nil).names()
    case .dir: []
    }
  }

  private enum Kind {
    case layout(any LayoutFiles)
    case dockerArchive(TarArchive)
    case dir(String)
  }

  /// What `path` holds: an OCI layout (folder or tar), a `docker save` tarball, or a `dir:` folder.
  private static func kind(of path: String) throws -> Kind {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: Volumes.parts(of: path)[0], isDirectory: &isDirectory) else {
      throw ArchiveError.missing(path: path)
    }
    if isDirectory.boolValue { return DirSource.recognizes(path) ? .dir(path) : .layout(DirectoryFiles(path: path)) }
    let archive = try TarArchive(path: path)
    if try archive.resolve("manifest.json") != nil { return .dockerArchive(archive) }
    if try archive.resolve("index.json") != nil { return .layout(TarFiles(archive: archive)) }
    throw ArchiveError.unrecognized(
      path: path, reason: "neither a docker save tarball (no manifest.json) nor an OCI layout (no index.json)")
  }
}
