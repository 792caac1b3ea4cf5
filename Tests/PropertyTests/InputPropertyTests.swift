import Foundation
import PropertyBased
import Testing

@testable import AWS
@testable import Hoist
@testable import OCI
@testable import Registry
@testable import Transport

/// Values from outside, generated: whatever they are, hoist's readers end in a value within bounds or a
/// refusal, never a trap, and what they accept reads back the same.
@Suite struct InputPropertyTests {
  /// Strings of up to `length` characters of `alphabet`.
  static func strings(of alphabet: String, length: ClosedRange<Int> = 0...40) -> Generator<
    String, some Sequence & SendableMetatype
  > {
    Gen<Character?>.element(of: Array(alphabet)).map { $0 ?? " " }.string(of: length)
  }

  /// Characters that break naive parsers: digits of other scripts, controls, separators, signs.
  static let hostile = "0123456789 .,;:/@+-_=\"'<>\\\u{0}\u{7f}\t\n٣½Ⅻé"

  @Test func sizesAreWithinBoundsOrRefused() async {
    let units = ["", "b", "k", "KB", "kib", "m", "MiB", "g", "GB", "gib", "t", "x", " m"]
    await propertyCheck(input: Gen.int(in: 0...(1 << 42)), Gen<String?>.element(of: units).map { $0 ?? "" }) {
      number, unit in
      let scale = ["b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30][unit.lowercased().prefix(1).description] ?? 1
      let known = ["", "b", "k", "kb", "kib", "m", "mib", "g", "gb", "gib"].contains(unit.lowercased())
      let expected = known && number <= ByteSize.largest / scale ? number * scale : nil
      #expect(ByteSize.parse("\(number)\(unit)") == expected)
    }
    await propertyCheck(input: Self.strings(of: Self.hostile + "kKmMgGiIbBeE")) { text in
      if let bytes = ByteSize.parse(text) { #expect((0...ByteSize.largest).contains(bytes)) }
    }
  }

  @Test func aRegionIsAcceptedOnlyWhereItCanNameAHost() async {
    await propertyCheck(input: Self.strings(of: "abcxyz019-" + Self.hostile + "ABZ", length: 0...45)) { text in
      let fits =
        (1...40).contains(text.utf8.count)
        && text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
      let region = try? AWSEnvironment.checkedRegion(text, from: "AWS_REGION")
      #expect((region != nil) == fits)
      if let region {
        #expect((try? CheckedURL.make("https://api.ecr.\(region).amazonaws.com", from: "region")) != nil)
      }
    }
  }

  @Test func aRetryAfterIsAFiniteWaitOrNothing() async {
    await propertyCheck(input: Self.strings(of: "0123456789.eE-+ nainfNAIF", length: 0...12)) { text in
      if let seconds = Retries.seconds(retryAfter: text) { #expect(seconds.isFinite && seconds >= 0) }
    }
    await propertyCheck(input: Gen.double(in: -1e300...1e300)) { value in
      let seconds = Retries.seconds(retryAfter: "\(value)")
      #expect(seconds == (value >= 0 ? value : nil))
    }
  }

  @Test func aReferenceThatParsesReadsBackTheSame() async {
    // Mostly well-formed parts, now and then a hostile character or separator, joined as references are.
    let part = { (alphabet: String, length: ClosedRange<Int>) in
      Self.strings(of: String(repeating: alphabet, count: 40) + Self.hostile, length: length)
    }
    let separator = Gen<String?>.element(of: ["/", ".", "_", "__", "-", "/", "//", ":"]).map { $0 ?? "/" }
    let path = zip(part("abz09", 1...10), separator, part("abz09", 1...10)).map { $0 + $1 + $2 }
    let references = zip(
      zip(part("abc09.-", 0...20), Gen<String?>.element(of: ["", ":5000", ":0", ":x"]).map { $0 ?? "" }), path,
      part("abZ09._-", 0...12), Gen.int(in: 0...3)
    ).map { registry, path, tag, shape in
      let named = registry.0.isEmpty ? path : registry.0 + registry.1 + "/" + path
      return [named, named + ":" + tag, named + "@sha256:" + String(repeating: "ab", count: 32), path][shape]
    }
    var parsed = 0
    await propertyCheck(count: 1000, input: references) { text in
      guard let reference = try? Reference(parsing: text) else { return }
      parsed += 1
      #expect((try? Reference(parsing: reference.description)) == reference)
      #expect(!reference.repository.isEmpty && !reference.registry.contains(" "))
    }
    #expect(parsed > 100)
  }

  @Test func aPlatformThatParsesReadsBackTheSame() async {
    let word = Self.strings(of: String(repeating: "linuxamd64arm", count: 4) + Self.hostile, length: 0...8)
    let platforms = zip(word, word, word, Gen.bool).map { os, arch, variant, withVariant in
      withVariant ? "\(os)/\(arch)/\(variant)" : "\(os)/\(arch)"
    }
    var parsed = 0
    await propertyCheck(count: 500, input: platforms) { text in
      guard let platform = try? Platform(parsing: text) else { return }
      parsed += 1
      #expect((try? Platform(parsing: platform.description)) == platform)
    }
    #expect(parsed > 50)
  }

  @Test func headersAreReadWithoutTrapsAndOnlyFromWhatTheyHold() async {
    let alphabet = "Bearer realm=\"https://a/t\", service=x,scope=\"repository:a:pull\"<>; rel=next" + Self.hostile
    await propertyCheck(count: 500, input: Self.strings(of: alphabet, length: 0...80)) { header in
      if let challenge = Challenge(header: header) {
        #expect(!challenge.scheme.isEmpty && header.lowercased().contains(challenge.scheme))
        for (name, value) in challenge.parameters {
          #expect(header.lowercased().contains(name) && value.allSatisfy { header.contains($0) })
        }
      }
      if let next = RegistryClient.nextLink(header) { #expect(header.contains("<\(next)>")) }
    }
  }
}
