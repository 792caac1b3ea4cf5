import Foundation
import OCI
import Yams

/// A list of images to mirror in skopeo sync's YAML format, so files people keep for `skopeo sync --src yaml`
/// work unchanged:
///
/// ```yaml
/// registry.example.com:
///   images:
///     busybox: []              # every tag
///     redis: ["1.0", "2.0"]    # these tags (or digests)
///   images-by-tag-regex:
///     nginx: ^1\.13\.[12]-alpine-perl$
///   images-by-semver:
///     alpine: ">= 3.12.0, < 4"
///   credentials: {username: john, password: secret}
///   tls-verify: false
/// ```
public struct SyncFile: Sendable {
  /// Which tags of a repository to mirror.
  public enum Selection: Sendable, Equatable {
    /// These tags or digests; none listed means every tag.
    case tags([String])
    /// The tags the regular expression matches (anywhere, as Go's `MatchString` does, unless anchored).
    case regex(String)
    /// The tags that are versions within the range.
    case semver(SemverRange)
  }

  /// One repository to mirror, and where in the file it was named.
  public struct Image: Sendable {
    public var registry: String
    public var repository: String
    public var selection: Selection
    /// `tls-verify: false`: plain HTTP, or TLS without verification.
    public var tlsVerify: Bool
    public var username: String?
    public var password: String?
    public var line: Int
  }

  public var images: [Image]

  static let registryKeys = [
    "images", "images-by-tag-regex", "images-by-semver", "credentials", "tls-verify", "cert-dir",
  ]

  /// Reads the file's text; `path` names it in errors, which give the line and the key at fault.
  public init(yaml: String, path: String) throws(SyncFileError) {
    func fail(_ node: Node?, _ reason: String) -> SyncFileError {
      SyncFileError(path: path, line: node?.mark?.line, reason: reason)
    }
    let root: Node?
    do {
      root = try Yams.compose(yaml: yaml)
    } catch {
      throw SyncFileError(path: path, line: (error as? YamlError)?.line, reason: "not YAML: \(error)")
    }
    guard let top = root?.mapping else { throw fail(root, "expected registries as keys") }
    images = []
    for (key, value) in top {
      guard let registry = key.string, !registry.isEmpty else { throw fail(key, "a registry must be a name") }
      guard let settings = value.mapping else { throw fail(value, "\(registry): expected a mapping of settings") }
      var tlsVerify = true
      var username: String?
      var password: String?
      var selections = [(String, Selection, Int)]()
      for (settingKey, setting) in settings {
        let name = settingKey.string ?? ""
        switch name {
        case "tls-verify":
          guard let flag = setting.bool else { throw fail(setting, "\(registry).tls-verify: expected true or false") }
          tlsVerify = flag
        case "credentials":
          guard let credentials = setting.mapping, let user = credentials["username"]?.string,
            let secret = credentials["password"]?.string
          else { throw fail(setting, "\(registry).credentials: expected username and password") }
          (username, password) = (user, secret)
        case "cert-dir":
          continue
        case "images", "images-by-tag-regex", "images-by-semver":
          guard let repositories = setting.mapping else {
            throw fail(setting, "\(registry).\(name): expected repositories as keys")
          }
          for (repositoryKey, list) in repositories {
            guard let repository = repositoryKey.string, !repository.isEmpty else {
              throw fail(repositoryKey, "\(registry).\(name): a repository must be a name")
            }
            let at = "\(registry).\(name).\(repository)"
            selections.append(
              (repository, try Self.selection(name, list, at: at, fail: fail), repositoryKey.mark?.line ?? 0))
          }
        default:
          throw fail(
            settingKey, "\(registry): unknown key \(name) (expected \(Self.registryKeys.joined(separator: ", ")))")
        }
      }
      for (repository, selection, line) in selections {
        images.append(
          Image(
            registry: registry, repository: repository, selection: selection, tlsVerify: tlsVerify,
            username: username, password: password, line: line))
      }
    }
  }

  /// What an `images`, `images-by-tag-regex` or `images-by-semver` entry (`name`) selects; `at` names it in
  /// errors.
  static func selection(
    _ name: String, _ list: Node, at: String, fail: (Node?, String) -> SyncFileError
  ) throws(SyncFileError) -> Selection {
    switch name {
    case "images":
      if list.null != nil { return .tags([]) }
      guard list.sequence != nil else { throw fail(list, "\(at): expected a list of tags or digests") }
      let tags = list.array().compactMap(\.string)
      guard tags.count == list.array().count else { throw fail(list, "\(at): every tag must be a string") }
      return .tags(tags)
    case "images-by-tag-regex":
      guard let pattern = list.string, (try? NSRegularExpression(pattern: pattern)) != nil else {
        throw fail(list, "\(at): expected a regular expression")
      }
      return .regex(pattern)
    default:
      guard let text = list.string, let range = SemverRange(text) else {
        throw fail(list, "\(at): expected a version range such as \">= 1.2.0, < 2\"")
      }
      return .semver(range)
    }
  }

  /// The tags of `available` a selection takes, in the order listed (explicit tags keep theirs).
  public static func tags(_ selection: Selection, of available: [String]) -> [String] {
    switch selection {
    case .tags(let tags): return tags.isEmpty ? available : tags
    case .regex(let pattern):
      guard let expression = try? NSRegularExpression(pattern: pattern) else { return [] }
      return available.filter {
        expression.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil
      }
    case .semver(let range): return available.filter { SemverRange.Version($0).map(range.contains) ?? false }
    }
  }
}

/// A sync file that cannot be used, with the line at fault.
public struct SyncFileError: CategorizedError, CustomStringConvertible {
  public var path: String
  public var line: Int?
  public var reason: String
  public var description: String { "\(path)\(line.map { ":\($0)" } ?? ""): \(reason)" }
  public var category: ErrorCategory { .invalidInput }
}

extension YamlError {
  /// The line a parse error names, if it names one.
  var line: Int? {
    switch self {
    case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
    default: nil
    }
  }
}
