import Foundation
import OCI

/// A URL made from values that came from outside (a region, an endpoint variable, a config file, a header),
/// checked before use: an `http` or `https` URL with a host, no spaces, no control characters.
public enum CheckedURL {
  /// `text` as a URL, or a `BadSetting` that names `source`, the setting the text came from.
  public static func make(_ text: String, from source: String) throws -> URL {
    guard let url = parse(text) else {
      throw BadSetting(name: source, value: text, expected: "an http:// or https:// URL with a host")
    }
    return url
  }

  /// `text` as a URL if it is one hoist can send requests to.
  public static func parse(_ text: String) -> URL? {
    guard !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value >= 0x7F }),
      let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
      scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
      host.unicodeScalars.allSatisfy(hostCharacters.contains), let url = components.url
    else { return nil }
    return url
  }

  private static let hostCharacters = CharacterSet(
    charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]")
}
