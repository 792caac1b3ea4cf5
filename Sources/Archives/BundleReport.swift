import OCI

/// What `hoist verify` found in a bundle: the images it holds and every problem, each named.
public struct BundleReport: Sendable {
  /// An image (or index) the bundle names.
  public struct Image: Sendable, Equatable {
    /// Its name in the bundle (docker's RepoTags, the OCI ref-name annotation), if it has one.
    public var name: String?
    public var digest: Digest?
    /// `os/arch[/variant]` of each platform it holds.
    public var platforms: [String]
    /// Manifests that refer to it (signatures, SBOMs, attestations), found by subject or cosign tag.
    public var referrers: Int
  }

  public var path: String
  public var images = [Image]()
  /// Blobs checked against their digests, and their bytes.
  public var blobs = 0
  public var bytes: Int64 = 0
  /// Referrer manifests in the bundle.
  public var referrers = 0
  /// Each problem: what is wrong with which image or blob, and what was expected.
  public var problems = [String]()
  /// What is worth knowing but not wrong: platforms an index names that the bundle leaves out (a
  /// one-platform export of a multi-platform image, as containerd makes).
  public var notes = [String]()

  public init(path: String) { self.path = path }

  /// Whether nothing is wrong.
  public var isSound: Bool { problems.isEmpty }

  /// Every platform the images hold, once each, sorted.
  public var platforms: [String] { Array(Set(images.flatMap(\.platforms))).sorted() }

  /// One line: sound or not, and what the bundle holds.
  public var summary: String {
    let names = images.compactMap(\.name)
    let list = names.isEmpty ? "" : " (\(names.joined(separator: ", ")))"
    let verdict = isSound ? "sound" : "\(problems.count) problem\(problems.count == 1 ? "" : "s")"
    return "\(path): \(verdict): \(images.count) image\(images.count == 1 ? "" : "s")\(list), "
      + "\(platforms.count) platform\(platforms.count == 1 ? "" : "s"), \(referrers) referrer"
      + "\(referrers == 1 ? "" : "s"), \(blobs) blob\(blobs == 1 ? "" : "s"), \(bytes) bytes"
  }

  /// The report as JSON values (for `--json`).
  public var object: [String: Any] {
    [
      "path": path, "sound": isSound, "blobs": blobs, "bytes": bytes, "referrers": referrers,
      "platforms": platforms, "problems": problems, "notes": notes,
      "images": images.map { image in
        var object: [String: Any] = ["platforms": image.platforms, "referrers": image.referrers]
        if let name = image.name { object["name"] = name }
        if let digest = image.digest { object["digest"] = digest.description }
        return object
      },
    ]
  }
}
