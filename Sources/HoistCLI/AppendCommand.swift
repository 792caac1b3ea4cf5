import Archives
import ArgumentParser
import Foundation
import OCI
import Registry
import Streams
import Transfer

/// `hoist append BASE DEST --layer PATH...`: the image with new layers on top, made deterministically.
struct AppendCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "append",
    abstract: "Put layers made from folders or tars on top of an image, without a build.",
    discussion: """
      BASE and DEST are any places copy takes. Each --layer PATH[:DIR] is a folder (its contents go under DIR
      in the image, / by default) or a plain tar (taken as it is). A folder's layer is the same on every run and
      machine: entries in sorted order, owner 0:0 (or --owner), no time later than --created, SOURCE_DATE_EPOCH
      or, without either, 1970-01-01. The layer is gzip'd by hoist's compressor, its diffID and a history entry
      added to the config; BASE's layers are not sent again where DEST's registry has them. On an index, every
      platform gets the layers (or those --platform names). On success, stdout has DEST@sha256:<digest>.

      Example:
        hoist append registry.example.com/base:3 registry.example.com/app:1.4 --layer ./dist:/app
      """
  )

  @Argument(help: "The image to start from.") var base: String
  @Argument(help: "Where the image with the new layers goes.") var destination: String

  @Option(name: .long, help: "A folder or plain tar to add as a layer, PATH[:DIR] (repeatable, bottom first).")
  var layer: [String] = []
  @Option(name: .long, help: "The owner of a folder's files in the layer, UID:GID (default 0:0).")
  var owner: String?
  @Option(name: .long, help: "The latest time a file may have, and the history's time (RFC 3339).")
  var created: String?
  @Option(name: .long, help: "In an index, add to this platform only, os/arch[/variant] (repeatable).")
  var platform: [String] = []

  @OptionGroup var display: OutputOptions
  @OptionGroup var connection: ConnectionOptions

  func validate() throws {
    if layer.isEmpty { throw ValidationError("give at least one --layer") }
    try validateTime(created)
    if let owner, Self.owner(owner) == nil { throw ValidationError("--owner takes UID:GID, e.g. 1000:1000") }
  }

  static func owner(_ text: String) -> (uid: Int, gid: Int)? {
    let parts = text.split(separator: ":").compactMap { Int($0) }
    return parts.count == 2 && parts.allSatisfy { $0 >= 0 } ? (parts[0], parts[1]) : nil
  }

  /// Seconds since 1970 no file may be newer than: --created, else SOURCE_DATE_EPOCH, else 0.
  var clamp: Int {
    if let created, let date = ISO8601DateFormatter().date(from: created) { return Int(date.timeIntervalSince1970) }
    return ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap(Int.init) ?? 0
  }

  func run() async throws {
    try await reportingErrors {
      let folder = cacheFolder().appendingPathComponent("append-\(UUID().uuidString)").path
      try FileManager.default.createDirectory(
        atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
      defer { try? FileManager.default.removeItem(atPath: folder) }
      var builder = LayerBuilder(clamp: clamp, compression: .fastest)
      if let owner { builder.owner = Self.owner(owner) ?? (0, 0) }
      let time = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(clamp)))
      var edit = ConfigEdit()
      var layers = [MutatedImage.NewLayer]()
      for item in layer {
        let (path, under) = Self.split(item)
        let built = try builder.build(from: path, under: under, into: folder, mediaType: MediaType.ociLayerGzip)
        edit.appendedLayers.append(.init(diffID: built.diffID, created: time, createdBy: "hoist append to \(under)"))
        layers.append(.init(descriptor: built.descriptor) { offset in try built.open(from: offset) })
      }
      let platforms = try platform.map { try Platform(parsing: $0) }
      try await copyChanged(from: base, to: destination, connection: connection, display: display) {
        try await MutatedImage.make($0, edit: edit, layers: layers, platforms: platforms)
      }
    }
  }

  /// `PATH[:DIR]`: the folder or tar, and where a folder's contents go in the image.
  static func split(_ item: String) -> (path: String, under: String) {
    guard let colon = item.lastIndex(of: ":"), item[item.index(after: colon)...].hasPrefix("/") else {
      return (item, "/")
    }
    return (String(item[..<colon]), String(item[item.index(after: colon)...]))
  }
}
