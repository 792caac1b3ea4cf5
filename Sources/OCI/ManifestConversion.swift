/// Converting manifests and indexes between the OCI and Docker schema 2 families: media types mapped, and
/// what Docker schema 2 has no field for dropped, with the names of what was dropped for the user's notice.
extension Manifest {
  /// This manifest in `format`; throws for a layer `format` cannot describe (zstd in Docker schema 2).
  public func converted(to format: ManifestFormat) throws(OCIError) -> (manifest: Manifest, dropped: [String]) {
    var out = self
    var dropped = [String]()
    out.mediaType = format.manifestType
    out.config.mediaType = format.config(config.mediaType)
    for i in out.layers.indices {
      out.layers[i].mediaType = try format.layer(layers[i].mediaType, digest: layers[i].digest)
    }
    if format == .docker {
      dropped = dropDockerLess(&out.annotations, &out.artifactType, &out.subject)
      if out.config.dropDockerLess() || out.layers.indices.map({ out.layers[$0].dropDockerLess() }).contains(true) {
        dropped.append("descriptor annotations")
      }
    }
    return (out, dropped)
  }
}

extension Index {
  /// This index in `format` (an OCI index or a Docker manifest list); child manifests are converted by
  /// whoever copies them, and their descriptors updated then.
  public func converted(to format: ManifestFormat) -> (index: Index, dropped: [String]) {
    var out = self
    var dropped = [String]()
    out.mediaType = format.indexType
    if format == .docker {
      dropped = dropDockerLess(&out.annotations, &out.artifactType, &out.subject)
      if out.manifests.indices.map({ out.manifests[$0].dropDockerLess() }).contains(true) {
        dropped.append("descriptor annotations")
      }
    }
    return (out, dropped)
  }
}

/// Removes a manifest's or index's fields that Docker schema 2 does not have; returns the names of those set.
private func dropDockerLess(
  _ annotations: inout [String: String]?, _ artifactType: inout String?, _ subject: inout Descriptor?
) -> [String] {
  let dropped = [
    annotations == nil ? nil : "annotations", artifactType == nil ? nil : "artifactType",
    subject == nil ? nil : "subject",
  ]
  annotations = nil
  artifactType = nil
  subject = nil
  return dropped.compactMap { $0 }
}

extension Descriptor {
  /// Removes the fields a Docker schema 2 descriptor does not have; true if there were any.
  fileprivate mutating func dropDockerLess() -> Bool {
    let had = annotations != nil || artifactType != nil || data != nil
    annotations = nil
    artifactType = nil
    data = nil
    return had
  }
}
