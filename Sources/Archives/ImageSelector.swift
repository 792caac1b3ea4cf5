import OCI

/// Matches `--image NAME:TAG` against the names an archive gives its images
/// (docker's RepoTags, the OCI ref-name annotation, containerd's image name).
struct ImageSelector {
  let text: String

  /// Whether any of `names` denotes the selected image.
  func matches(_ names: [String]) -> Bool {
    names.contains { name in
      if name == text { return true }
      if let wanted = Self.normalized(text), let candidate = Self.normalized(name), wanted == candidate {
        return true
      }
      // A bare ref-name annotation is just a tag.
      return !name.contains(":") && !name.contains("/") && Self.normalized(text)?.tag == name
    }
  }

  private static func normalized(_ text: String) -> Reference? {
    (try? Reference(parsing: text))?.tagged
  }
}
