import Foundation

/// Changes to an image's config that need no rebuild (`hoist mutate`): every field not named keeps its
/// value, unknown fields included.
public struct ConfigEdit: Sendable, Equatable {
  public var labels: [String: String] = [:]
  /// `NAME=VALUE`; a variable already set is replaced where it stands.
  public var environment: [String] = []
  public var entrypoint: [String]?
  public var command: [String]?
  public var user: String?
  public var workingDirectory: String?
  /// `80/tcp`, `53/udp`; a bare number means TCP.
  public var exposedPorts: [String] = []
  /// The creation time of the image and of every history entry (RFC 3339), for reproducible images.
  public var created: String?
  /// Layers added on top, by diffID, each with the history entry's `created_by`.
  public var appendedLayers: [AppendedLayer] = []

  /// A layer added on top of the image's (`hoist append`), with its history entry's time and command.
  public struct AppendedLayer: Sendable, Equatable {
    public var diffID: Digest
    public var created: String
    public var createdBy: String
    public init(diffID: Digest, created: String, createdBy: String) {
      self.diffID = diffID
      self.created = created
      self.createdBy = createdBy
    }
  }

  public init() {}

  /// Whether there is nothing to change.
  public var isEmpty: Bool { self == ConfigEdit() }

  /// The config with the changes made, as JSON without escaped slashes and with sorted keys.
  public func apply(to config: Data, what: String) throws(OCIError) -> Data {
    guard var object = JSONValue.read(config)?.object else {
      throw .invalidDocument(what: what, reason: "not a JSON object")
    }
    var runtime = object["config"]?.object ?? [:]
    if !labels.isEmpty {
      var merged = runtime["Labels"]?.object ?? [:]
      for (key, value) in labels { merged[key] = .string(value) }
      runtime["Labels"] = .object(merged)
    }
    if !environment.isEmpty {
      var variables = runtime["Env"]?.array?.compactMap(\.string) ?? []
      for variable in environment {
        let name = variable.split(separator: "=", maxSplits: 1).first.map(String.init) ?? variable
        if let position = variables.firstIndex(where: { $0 == name || $0.hasPrefix(name + "=") }) {
          variables[position] = variable
        } else {
          variables.append(variable)
        }
      }
      runtime["Env"] = Self.strings(variables)
    }
    if let entrypoint { runtime["Entrypoint"] = Self.strings(entrypoint) }
    if let command { runtime["Cmd"] = Self.strings(command) }
    if let user { runtime["User"] = .string(user) }
    if let workingDirectory { runtime["WorkingDir"] = .string(workingDirectory) }
    if !exposedPorts.isEmpty {
      var ports = runtime["ExposedPorts"]?.object ?? [:]
      for port in exposedPorts { ports[port.contains("/") ? port : port + "/tcp"] = [:] }
      runtime["ExposedPorts"] = .object(ports)
    }
    object["config"] = .object(runtime)
    if !appendedLayers.isEmpty {
      var rootfs = object["rootfs"]?.object ?? ["type": "layers"]
      rootfs["diff_ids"] = .array(
        (rootfs["diff_ids"]?.array ?? []) + appendedLayers.map { .string($0.diffID.description) })
      object["rootfs"] = .object(rootfs)
      let history = appendedLayers.map { layer -> JSONValue in
        ["created": .string(layer.created), "created_by": .string(layer.createdBy), "comment": "hoist append"]
      }
      object["history"] = .array((object["history"]?.array ?? []) + history)
    }
    if let created {
      object["created"] = .string(created)
      if let history = object["history"]?.array {
        object["history"] = .array(
          history.map { entry in
            guard var members = entry.object else { return entry }
            members["created"] = .string(created)
            return .object(members)
          })
      }
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(object) else {
      throw .invalidDocument(what: what, reason: "cannot be written back as JSON")
    }
    return data
  }

  private static func strings(_ texts: [String]) -> JSONValue { .array(texts.map(JSONValue.string)) }
}
