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
      if out.annotations != nil { dropped.append("annotations") }
      if out.artifactType != nil { dropped.append("artifactType") }
      if out.subject != nil { dropped.append("subject") }
      out.annotations = nil
      out.artifactType = nil
      out.subject = nil
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
      if out.annotations != nil { dropped.append("annotations") }
      if out.artifactType != nil { dropped.append("artifactType") }
      if out.subject != nil { dropped.append("subject") }
      out.annotations = nil
      out.artifactType = nil
      out.subject = nil
      if out.manifests.indices.map({ out.manifests[$0].dropDockerLess() }).contains(true) {
        dropped.append("descriptor annotations")
      }
    }
    return (out, dropped)
  }
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
