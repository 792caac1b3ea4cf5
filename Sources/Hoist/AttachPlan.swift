import Archives
import Foundation
import OCI
import Registry
import Transfer

/// What `hoist attach` does, as a value: files as an OCI 1.1 artifact whose subject is an image, pushed
/// beside it.
public struct AttachPlan: Sendable {
  /// The image to attach to.
  public var subject: Reference
  /// Files as `FILE` or `FILE:MEDIATYPE`.
  public var files: [String]
  public var artifactType: String
  /// `KEY=VALUE` items; the creation time is added unless one sets it.
  public var annotations = [String]()
  public var concurrency = 4

  /// The annotation that says when the artifact was made.
  public static let created = "org.opencontainers.image.created"

  public init(subject: Reference, files: [String], artifactType: String) {
    self.subject = subject
    self.files = files
    self.artifactType = artifactType
  }

  /// Refuses what cannot be attached as written.
  public func validate() throws(PlanError) {
    if files.isEmpty { throw PlanError("name at least one file to attach") }
    if !artifactType.contains("/") { throw PlanError("--artifact-type \(artifactType): not a media type") }
    try PlanInputs.check(pairs: annotations, option: "--annotation")
    try PlanRules.check(concurrency: concurrency)
  }

  /// A file argument split into its path and media type (the artifact type unless it names one).
  public func file(_ item: String) -> ArtifactSource.File {
    if let colon = item.lastIndex(of: ":"), item[item.index(after: colon)...].contains("/") {
      return ArtifactSource.File(path: String(item[..<colon]), mediaType: String(item[item.index(after: colon)...]))
    }
    return ArtifactSource.File(path: item, mediaType: artifactType)
  }

  /// The artifact's annotations, made at `now` unless one says when.
  public func manifestAnnotations(now: Date) -> [String: String] {
    var pairs = PlanInputs.pairs(annotations)
    if pairs[Self.created] == nil { pairs[Self.created] = ISO8601DateFormatter().string(from: now) }
    return pairs
  }

  /// Pushes the artifact; returns its manifest's descriptor as stored.
  public func run(in session: Session, progress: @escaping @Sendable (ProgressEvent) -> Void) async throws
    -> Descriptor
  {
    let root = try await session.registrySource(subject, platform: nil, wholeIndex: true).root()
    let artifact = try ArtifactSource.make(
      files: files.map(file), artifactType: artifactType, subject: root.descriptor,
      annotations: manifestAnnotations(now: Date()))
    let destination = RegistryDestination(
      client: try session.client(for: subject), repository: subject.repository,
      chunkSize: RegistryDestination.defaultChunkSize)
    let engine = CopyEngine(
      options: session.settings.copyOptions(concurrency: concurrency), cache: session.blobInfo,
      progress: progress)
    return try await engine.run([
      ImageCopy(source: { artifact }, targets: [CopyTarget(destination: destination, tags: [])])
    ])[0]
  }
}
