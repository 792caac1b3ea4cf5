import ArgumentParser
import Foundation
import Hoist
import OCI
import Transfer

/// `--referrers` and `--referrers-type`, for the commands that carry images.
struct ReferrerOptions: ParsableArguments {
  @Flag(
    help: ArgumentHelp(
      "Carry each image's referrers from a registry too: signatures, SBOMs and attestations (OCI 1.1 referrers, "
        + "cosign tags). A file's referrers travel with its images without it."))
  var referrers = false

  @Option(
    name: .customLong("referrers-type"),
    help: "Carry only the image's referrers of this artifact type (repeatable; implies --referrers).")
  var referrersTypes: [String] = []

  @Flag(
    name: .customLong("no-referrers"),
    help: "Leave a file's referrers behind (a file's travel with its images unless this is given).")
  var noReferrers = false

  /// What to carry; nil when no referrers were asked for.
  var selection: ReferrerSelection? {
    referrers || !referrersTypes.isEmpty ? ReferrerSelection(artifactTypes: referrersTypes) : nil
  }
}

/// `hoist referrers REF`: the tree of what refers to an image.
struct ReferrersCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "referrers",
    abstract: "List an image's signatures, SBOMs and attestations, and what refers to them in turn.",
    discussion: """
      Lists the manifests whose subject is the image (the referrers API, else the referrers tag schema's
      sha256-<hex> index) and cosign's tags beside it (sha256-<hex>.sig, .att, .sbom), then their own
      referrers. REF is a registry reference or a file as copy takes it (oci:PATH[:NAME], ./layout, bundle.tar).

      Examples:
        hoist referrers registry.example.com/app:1.4
        hoist referrers registry.example.com/app:1.4 --artifact-type application/spdx+json --json
        hoist referrers oci:./bundle:registry.example.com/app:1.4
      """)

  @Argument(help: "The image: a registry reference or a file location.") var reference: String

  @Option(name: .long, help: "Only the image's referrers of this artifact type (repeatable).")
  var artifactType: [String] = []

  @Option(name: .long, help: "How many levels of referrers of referrers to follow.")
  var depth = ReferrerSelection.defaultDepth

  @Flag(help: "Print JSON.") var json = false
  @OptionGroup var connection: ConnectionOptions

  func validate() throws {
    if !(1...16).contains(depth) { throw ValidationError("--depth must be between 1 and 16") }
  }

  func run() async throws {
    try await reportingErrors {
      let location = try ImageLocation(parsing: reference)
      let (subject, trees) = try await connection.withConnection(hosts: [location.registryHost].compactMap { $0 }) {
        connected in
        let source = try connected.source(location, platform: .all)
        let subject = try await source.root().descriptor
        let selection = ReferrerSelection(artifactTypes: artifactType, depth: depth)
        return (subject, try await ReferrerTree.discover(of: subject.digest, in: source, selection: selection))
      }
      if json {
        printJSON([
          "reference": reference, "digest": subject.digest.description, "mediaType": subject.mediaType,
          "referrers": trees.map(Self.object),
        ])
      } else {
        print("\(reference)@\(subject.digest)")
        for (n, tree) in trees.enumerated() { Self.printTree(tree, prefix: "", last: n == trees.count - 1) }
      }
    }
  }

  /// A referrer and its referrers as JSON.
  static func object(_ tree: ReferrerTree) -> [String: Any] {
    let descriptor = tree.referrer.descriptor
    var object: [String: Any] = [
      "digest": descriptor.digest.description, "mediaType": descriptor.mediaType, "size": descriptor.size,
      "referrers": tree.children.map(object),
    ]
    if let artifactType = tree.referrer.artifactType { object["artifactType"] = artifactType }
    if let annotations = descriptor.annotations { object["annotations"] = annotations }
    if let tag = tree.referrer.tag { object["tag"] = tag }
    return object
  }

  /// One line per referrer, drawn as a tree: digest, artifact type, size, cosign tag, annotations.
  static func printTree(_ tree: ReferrerTree, prefix: String, last: Bool) {
    let descriptor = tree.referrer.descriptor
    var line = prefix + (last ? "└── " : "├── ") + descriptor.digest.description
    line += " " + (tree.referrer.artifactType ?? descriptor.mediaType) + " " + formatBytes(descriptor.size)
    if let tag = tree.referrer.tag { line += " tag \(tag)" }
    for (key, value) in (descriptor.annotations ?? [:]).sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
    print(line)
    for (n, child) in tree.children.enumerated() {
      printTree(child, prefix: prefix + (last ? "    " : "│   "), last: n == tree.children.count - 1)
    }
  }
}
