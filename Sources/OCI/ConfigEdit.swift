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
    guard var object = (try? JSONSerialization.jsonObject(with: config)) as? [String: Any] else {
      throw .invalidDocument(what: what, reason: "not a JSON object")
    }
    var runtime = object["config"] as? [String: Any] ?? [:]
    if !labels.isEmpty {
      var merged = runtime["Labels"] as? [String: Any] ?? [:]
      for (key, value) in labels { merged[key] = value }
      runtime["Labels"] = merged
    }
    if !environment.isEmpty {
      var variables = runtime["Env"] as? [String] ?? []
      for variable in environment {
        let name = variable.split(separator: "=", maxSplits: 1).first.map(String.init) ?? variable
        if let position = variables.firstIndex(where: { $0 == name || $0.hasPrefix(name + "=") }) {
          variables[position] = variable
        } else {
          variables.append(variable)
        }
      }
      runtime["Env"] = variables
    }
    if let entrypoint { runtime["Entrypoint"] = entrypoint }
    if let command { runtime["Cmd"] = command }
    if let user { runtime["User"] = user }
    if let workingDirectory { runtime["WorkingDir"] = workingDirectory }
    if !exposedPorts.isEmpty {
      var ports = runtime["ExposedPorts"] as? [String: Any] ?? [:]
      for port in exposedPorts { ports[port.contains("/") ? port : port + "/tcp"] = [String: Any]() }
      runtime["ExposedPorts"] = ports
    }
    object["config"] = runtime
    if !appendedLayers.isEmpty {
      var rootfs = object["rootfs"] as? [String: Any] ?? ["type": "layers"]
      rootfs["diff_ids"] = (rootfs["diff_ids"] as? [String] ?? []) + appendedLayers.map(\.diffID.description)
      object["rootfs"] = rootfs
      let history = appendedLayers.map { layer -> [String: Any] in
        ["created": layer.created, "created_by": layer.createdBy, "comment": "hoist append"]
      }
      object["history"] = (object["history"] as? [[String: Any]] ?? []) + history
    }
    if let created {
      object["created"] = created
      if let history = object["history"] as? [[String: Any]] {
        object["history"] = history.map { entry in
          var entry = entry
          entry["created"] = created
          return entry
        }
      }
    }
    guard
      let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    else { throw .invalidDocument(what: what, reason: "cannot be written back as JSON") }
    return data
  }
}
