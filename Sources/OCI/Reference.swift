/// An image reference such as `registry.example.com/team/app:1.4` or `app@sha256:…`, parsed the way docker does.
public struct Reference: Hashable, Sendable, CustomStringConvertible {
  /// The registry host, with its port if one was given (`docker.io` when none was).
  public var registry: String
  /// The repository path inside the registry, e.g. `team/app` (`library/alpine` on Docker Hub).
  public var repository: String
  public var tag: String?
  public var digest: Digest?

  public init(registry: String, repository: String, tag: String? = nil, digest: Digest? = nil) {
    self.registry = registry
    self.repository = repository
    self.tag = tag
    self.digest = digest
  }

  /// The tag a reference with neither tag nor digest means, as docker reads it.
  public static let defaultTag = "latest"

  /// What to ask a registry for: the digest when there is one, else the tag, else `latest`.
  public var manifestReference: String { digest?.description ?? tag ?? Self.defaultTag }

  /// The same reference, tagged `latest` when it has neither tag nor digest.
  public var tagged: Reference {
    var out = self
    if tag == nil && digest == nil { out.tag = Self.defaultTag }
    return out
  }

  /// Parses a reference; a missing tag stays nil (callers choose whether `latest` applies).
  public init(parsing text: String) throws(OCIError) {
    var rest = Substring(text)
    if let at = rest.firstIndex(of: "@") {
      let digestText = String(rest[rest.index(after: at)...])
      do {
        digest = try Digest(digestText)
      } catch {
        throw .invalidReference(text, reason: "bad digest: \(error)")
      }
      rest = rest[..<at]
    }
    if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
      let tagText = String(rest[rest.index(after: colon)...])
      guard Reference.isValidTag(tagText) else {
        throw .invalidReference(text, reason: "bad tag \"\(tagText)\"")
      }
      tag = tagText
      rest = rest[..<colon]
    }
    var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    if components.count > 1, let first = components.first, Self.namesRegistry(first) {
      registry = first
      components.removeFirst()
      guard Self.isValidRegistry(first) else {
        throw .invalidReference(text, reason: "bad registry host \"\(first)\"")
      }
    } else {
      registry = "docker.io"
      if components.count == 1 { components.insert("library", at: 0) }
    }
    repository = components.joined(separator: "/")
    guard !repository.isEmpty, repository.utf8.count <= 255 else {
      throw .invalidReference(text, reason: "the repository name is empty or too long")
    }
    guard components.allSatisfy(Reference.isValidPathComponent) else {
      throw .invalidReference(
        text, reason: "repository \"\(repository)\" must be lowercase letters, digits and . _ - separators")
    }
  }

  /// Where an image goes under a destination prefix `HOST[/PATH]` (`--registry`): its name as written in
  /// `RepoTags` or the `org.opencontainers.image.ref.name` annotation, less its registry host (as
  /// `namesRegistry` tells it: `docker.io`, `localhost`, …) and with no `library/` added, appended to PATH:
  /// `app:1.4` → `HOST/PATH/app:1.4`, `ghcr.io/org/tool:2` → `HOST/PATH/org/tool:2`. No tag means `latest`.
  public static func placing(_ name: String, under prefix: String) throws(OCIError) -> Reference {
    var (registry, path) = try parts(ofPrefix: prefix)
    var rest = Substring(name)
    if let at = rest.firstIndex(of: "@") { rest = rest[..<at] }
    var tag = defaultTag
    if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
      tag = String(rest[rest.index(after: colon)...])
      rest = rest[..<colon]
    }
    var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    if components.count > 1, let first = components.first, namesRegistry(first) { components.removeFirst() }
    path += components
    guard isValidTag(tag) else { throw .invalidReference(name, reason: "bad tag \"\(tag)\"") }
    guard path.allSatisfy(isValidPathComponent) else {
      throw .invalidReference(
        "\(registry)/\(path.joined(separator: "/"))",
        reason: "repository names must be lowercase letters, digits and . _ - separators")
    }
    return Reference(registry: registry, repository: path.joined(separator: "/"), tag: tag)
  }

  /// The registry host and the path of a destination prefix `HOST[/PATH]`, refused when the host is not
  /// `host[:port]` or a path component is not a repository name's.
  public static func parts(ofPrefix prefix: String) throws(OCIError) -> (registry: String, path: [String]) {
    var host = Substring(prefix)
    if let scheme = host.range(of: "://") { host = host[scheme.upperBound...] }
    var path = host.split(separator: "/").map(String.init)
    guard !path.isEmpty, !path[0].isEmpty else { throw .invalidReference(prefix, reason: "no registry host") }
    let registry = path.removeFirst()
    guard isValidRegistry(registry) else {
      throw .invalidReference(prefix, reason: "bad registry host \"\(registry)\"")
    }
    guard path.allSatisfy(isValidPathComponent) else {
      throw .invalidReference(prefix, reason: "repository names must be lowercase letters, digits and . _ - separators")
    }
    return (registry, path)
  }

  /// Whether the first component of a name is a registry host, as docker decides it: it has a dot, a colon or
  /// an upper-case letter, or is `localhost`.
  static func namesRegistry(_ component: String) -> Bool {
    component.contains(".") || component.contains(":") || component == "localhost"
      || component.contains(where: \.isUppercase)
  }

  /// Whether a registry is a host name or address with an optional port: letters, digits, `.`, `-`, `_`, or
  /// an IPv6 address in brackets, then `:PORT` (1 to 65535).
  static func isValidRegistry(_ registry: String) -> Bool {
    var host = Substring(registry)
    if let colon = host.lastIndex(of: ":"), !host[colon...].contains("]") {
      guard let port = Int(host[host.index(after: colon)...]), (1...65_535).contains(port) else { return false }
      host = host[..<colon]
    }
    if host.hasPrefix("[") && host.hasSuffix("]") {
      return host.count > 2 && host.dropFirst().dropLast().allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
    return !host.isEmpty && host.utf8.count <= 253
      && host.unicodeScalars.allSatisfy {
        $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-_".unicodeScalars.contains($0))
      }
  }

  /// The host to connect to: Docker Hub's registry lives at `registry-1.docker.io`.
  public var endpointHost: String { registry == "docker.io" ? "registry-1.docker.io" : registry }

  /// The registry and repository, without tag or digest.
  public var name: String { "\(registry)/\(repository)" }

  public var description: String {
    var text = name
    if let tag { text += ":\(tag)" }
    if let digest { text += "@\(digest)" }
    return text
  }

  /// The same repository with another tag and no digest.
  public func with(tag: String?) -> Reference {
    Reference(registry: registry, repository: repository, tag: tag)
  }

  /// The name of a tag beside the image named `name` (a cosign tag beside its image): a reference's tag
  /// replaced (or added), e.g. `reg/app:1.4` → `reg/app:TAG`; a bare name (`latest`) gives the tag alone.
  public static func sibling(of name: String, tag: String) -> String {
    nameParts(name).repository.map { "\($0):\(tag)" } ?? tag
  }

  /// The tag of an image name as files keep them (`reg/app:1.4` → `1.4`; a bare `latest` is a tag); nil
  /// for a name without one (`reg/app`).
  public static func tag(ofName name: String) -> String? { nameParts(name).tag.map(String.init) }

  /// A name's repository and tag, its digest dropped: `reg:5000/app:1.4` → (`reg:5000/app`, `1.4`),
  /// `reg/app` → (`reg/app`, nil), `latest` → (nil, `latest`).
  private static func nameParts(_ name: String) -> (repository: Substring?, tag: Substring?) {
    let base = name.split(separator: "@", maxSplits: 1).first ?? Substring(name)
    let slash = base.lastIndex(of: "/")
    if let colon = base.lastIndex(of: ":"), slash.map({ colon > $0 }) ?? true {
      return (colon == base.startIndex ? nil : base[..<colon], base[base.index(after: colon)...])
    }
    return slash == nil ? (nil, base) : (base, nil)
  }

  /// Whether `text` is a valid tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
  public static func isValidTag(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard let first = bytes.first, bytes.count <= 128, isWord(first) else { return false }
    return bytes.allSatisfy { isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
  }

  private static func isWord(_ b: UInt8) -> Bool {
    (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == UInt8(ascii: "_")
  }

  private static func isAlnum(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || (b >= 97 && b <= 122) }

  /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
  static func isValidPathComponent(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else { return false }
    var i = 0
    while i < bytes.count {
      if isAlnum(bytes[i]) {
        i += 1
        continue
      }
      var j = i
      while j < bytes.count, !isAlnum(bytes[j]) { j += 1 }
      let separator = bytes[i..<j]
      let valid =
        separator.elementsEqual([UInt8(ascii: ".")]) || separator.elementsEqual([UInt8(ascii: "_")])
        || separator.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")])
        || separator.allSatisfy { $0 == UInt8(ascii: "-") }
      guard valid else { return false }
      i = j
    }
    return true
  }
}

extension Reference {
  /// Destinations as a command line writes them: references to tags (`latest` where none is given), each
  /// `+TAG` adding a tag in the repository of the one before it; each with the text it stands for (a `+TAG`
  /// stands for its whole reference).
  public static func destinations(_ texts: [String]) throws(OCIError) -> [(text: String, reference: Reference)] {
    var out = [(text: String, reference: Reference)]()
    for text in texts {
      if text.hasPrefix("+") {
        let tag = String(text.dropFirst())
        guard let previous = out.last?.reference, isValidTag(tag) else {
          throw .invalidReference(text, reason: "+TAG must follow a destination and name a valid tag")
        }
        let reference = previous.with(tag: tag)
        out.append((reference.description, reference))
      } else {
        var reference = try Reference(parsing: text)
        guard reference.digest == nil else { throw .invalidReference(text, reason: "push to a tag, not a digest") }
        reference = reference.tagged
        out.append((text, reference))
      }
    }
    return out
  }
}
