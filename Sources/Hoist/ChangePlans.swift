import Archives
import Foundation
import OCI
import Streams
import Transfer

/// What `hoist mutate` does, as a value: the image with its config or annotations changed, layers untouched.
public struct MutatePlan: Sendable {
  public var source: ImageLocation
  public var destination: ImageLocation
  /// `KEY=VALUE` items.
  public var labels = [String](), environment = [String](), annotations = [String]()
  /// JSON arrays or comma-separated words.
  public var entrypoint: String?, command: String?
  public var user: String?, workingDirectory: String?
  /// `PORT[/tcp|/udp]` items.
  public var exposedPorts = [String]()
  /// RFC 3339.
  public var created: String?
  /// `os/arch[/variant]` items: in an index, change only these.
  public var platforms = [String]()
  public var concurrency = 4

  public init(source: ImageLocation, destination: ImageLocation) {
    self.source = source
    self.destination = destination
  }

  /// Refuses what cannot be applied as written.
  public func validate() throws {
    for (option, items) in [("--label", labels), ("--env", environment), ("--annotation", annotations)] {
      try PlanInputs.check(pairs: items, option: option)
    }
    try PlanInputs.check(time: created)
    if exposedPorts.contains(where: { PlanInputs.port($0) == nil }) {
      throw PlanError("--expose takes PORT[/tcp|/udp]")
    }
    try PlanRules.check(concurrency: concurrency)
    _ = try platforms.map { try Platform(parsing: $0) }
  }

  /// The change to the config.
  public func edit() throws -> ConfigEdit {
    var edit = ConfigEdit()
    edit.labels = PlanInputs.pairs(labels)
    edit.environment = environment
    edit.entrypoint = try entrypoint.map(PlanInputs.list)
    edit.command = try command.map(PlanInputs.list)
    edit.user = user
    edit.workingDirectory = workingDirectory
    edit.exposedPorts = exposedPorts.compactMap(PlanInputs.port)
    edit.created = created
    return edit
  }

  /// Copies the changed image; returns its root descriptor as stored.
  public func run(in session: Session, progress: @escaping @Sendable (ProgressEvent) -> Void) async throws
    -> Descriptor
  {
    let (edit, annotations) = (try edit(), PlanInputs.pairs(annotations))
    let platforms = try platforms.map { try Platform(parsing: $0) }
    return try await ChangedCopy(source: source, destination: destination, concurrency: concurrency).run(
      in: session, progress: progress
    ) { try await MutatedImage.make($0, edit: edit, annotations: annotations, platforms: platforms) }
  }
}

/// What `hoist append` does, as a value: deterministic layers from folders or tars on top of an image.
public struct AppendPlan: Sendable {
  public var base: ImageLocation
  public var destination: ImageLocation
  /// `PATH[:DIR]` items, bottom first.
  public var layers: [String]
  /// `UID:GID` of a folder's files.
  public var owner: String?
  /// The latest time a file may have, RFC 3339; else `SOURCE_DATE_EPOCH`, else 1970.
  public var created: String?
  public var platforms = [String]()
  public var concurrency = 4

  public init(base: ImageLocation, destination: ImageLocation, layers: [String]) {
    self.base = base
    self.destination = destination
    self.layers = layers
  }

  /// Refuses what cannot be appended as written.
  public func validate() throws {
    if layers.isEmpty { throw PlanError("give at least one --layer") }
    try PlanInputs.check(time: created)
    if let owner, PlanInputs.owner(owner) == nil { throw PlanError("--owner takes UID:GID, e.g. 1000:1000") }
    try PlanRules.check(concurrency: concurrency)
    _ = try platforms.map { try Platform(parsing: $0) }
  }

  /// Seconds since 1970 no file may be newer than: `created`, else `SOURCE_DATE_EPOCH`, else 0.
  public func clamp(environment: [String: String]) -> Int {
    if let created, let date = ISO8601DateFormatter().date(from: created) { return Int(date.timeIntervalSince1970) }
    return environment["SOURCE_DATE_EPOCH"].flatMap(Int.init) ?? 0
  }

  /// Builds the layers in a private folder of the session's cache and copies the image with them on top;
  /// returns its root descriptor as stored.
  public func run(in session: Session, progress: @escaping @Sendable (ProgressEvent) -> Void) async throws
    -> Descriptor
  {
    let folder = session.settings.cacheFolder.appendingPathComponent("append-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(
      atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let clamp = clamp(environment: session.settings.environment)
    var builder = LayerBuilder(clamp: clamp, compression: .fastest)
    if let owner { builder.owner = PlanInputs.owner(owner) ?? (0, 0) }
    let time = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(clamp)))
    var edit = ConfigEdit()
    var added = [MutatedImage.NewLayer]()
    for item in layers {
      let (path, under) = PlanInputs.layer(item)
      let built = try builder.build(from: path, under: under, into: folder, mediaType: MediaType.ociLayerGzip)
      edit.appendedLayers.append(.init(diffID: built.diffID, created: time, createdBy: "hoist append to \(under)"))
      added.append(.init(descriptor: built.descriptor) { offset in try built.open(from: offset) })
    }
    let platforms = try platforms.map { try Platform(parsing: $0) }
    return try await ChangedCopy(source: base, destination: destination, concurrency: concurrency).run(
      in: session, progress: progress
    ) { [edit, added] in try await MutatedImage.make($0, edit: edit, layers: added, platforms: platforms) }
  }
}

/// Copies the image at `source`, as a change makes it of the image as it is, to `destination`.
struct ChangedCopy {
  var source: ImageLocation
  var destination: ImageLocation
  var concurrency: Int

  func run(
    in session: Session, progress: @escaping @Sendable (ProgressEvent) -> Void,
    _ change: (any ImageSource) async throws -> MutatedImage
  ) async throws -> Descriptor {
    let image = try await change(try session.source(source, platform: .all))
    let engine = CopyEngine(
      options: session.settings.copyOptions(concurrency: concurrency), cache: session.blobInfo,
      progress: progress)
    let target = try session.target(destination, naming: source)
    return try await engine.run([ImageCopy(source: { image }, targets: [target])])[0]
  }
}
