import Foundation
import OCI
import Streams

/// How the copy engine moves an image.
public struct CopyOptions: Sendable {
  /// How many blobs move at once.
  public var concurrency = 4
  /// The manifest family to convert to, as the user asked; nil keeps each document's own.
  public var format: ManifestFormat?
  /// The family of the manifests hoist builds itself (from a `docker save`), when `format` is nil; nil
  /// builds Docker schema 2, as docker does (see `builtFamily`).
  public var builtFormat: ManifestFormat?
  /// Refuse to change any manifest digest the destination would force (the user named the digest).
  public var keepDigests = false
  /// How layers that need compressing are compressed (by default libdeflate level 1 in 1 MiB gzip members,
  /// measured against zlib and other levels in the README); part of the blob-info cache key.
  public var compression = LayerCompression.defaultGzip
  /// How many blocks compress at once, across every layer of a copy.
  public var compressionThreads = max(2, ProcessInfo.processInfo.activeProcessorCount)
  /// How often a blob's transfer may be tried in all (requests, chunks and sessions together).
  public var retryPolicy = RetryPolicy()
  /// How many bytes each read from a source asks for.
  public var readSize = IOSize.preferred
  /// Which referrers (signatures, SBOMs, attestations) travel with each image and index; nil carries none.
  /// Carrying them requires every digest to be kept, since they name their subjects by digest.
  public var referrers: ReferrerSelection?
  /// When `referrers` is nil: why a file's referrers stay behind (`--no-referrers`), to say how many do.
  public var referrersLeftOutBecause: String?
  /// SOCI v2 indexes to build for each image (`--soci`); nil builds none. Layers hoist compresses are then
  /// compressed in gzip members of the span, which the plans set in `compression`.
  public var soci: SociSettings?

  public init() {}

  /// The family of a manifest hoist builds: `format` when asked, else `builtFormat`, else Docker schema 2,
  /// unless that family cannot describe the layers `compression` writes (zstd), which then go in OCI.
  public var builtFamily: ManifestFormat {
    if let format { return format }
    let family = builtFormat ?? .docker
    let written = compression.isZstd ? MediaType.ociLayerZstd : MediaType.ociLayerGzip
    return family.canDescribe(layerType: written) ? family : .oci
  }

  /// Names the compression settings, so cached results of other settings are not mistaken for these.
  var compressionKey: String { compression.key }
}

/// What the engine reports while it works.
public enum ProgressEvent: Sendable {
  /// Something the user should know (what a source skipped, which image it chose).
  case notice(String)
  /// A blob every destination already had.
  case blobSkipped(Digest, size: Int64)
  /// A blob starts to move; `size` is the source's size (before compression).
  case blobStarted(Digest, size: Int64, compressing: Bool)
  /// A blob was mounted from another repository of the same registry: nothing was sent.
  case blobMounted(Digest, from: String)
  /// How far a blob has got: `bytes` of its source size read.
  case blobProgress(Digest, bytes: Int64)
  /// A blob's transfer failed for a passing reason and starts again (`attempt` counts from 1).
  case blobRetried(Digest, attempt: Int, reason: String)
  /// A blob continues where an interrupted transfer stopped, `bytes` in.
  case blobResumed(Digest, bytes: Int64)
  /// A blob moved; `sent` is what went over the wire under `stored`.
  case blobDone(Digest, stored: Digest, sent: Int64)
  /// A manifest was stored.
  case manifestStored(String, digest: Digest)
  /// A referrer of `subject` is about to be copied (`tag`: the cosign tag it lives under, if any).
  case referrerFound(Digest, subject: Digest, artifactType: String?, tag: String?)
  /// An event of one image among several a run copies at once, named as the run's caller labelled it.
  indirect case of(image: String, ProgressEvent)
}

/// What went wrong in the copy itself, as opposed to at a source or destination.
public enum TransferError: CategorizedError, CustomStringConvertible {
  /// A blob's bytes do not match the source's claim.
  case blobMismatch(source: String, digest: Digest, reason: String)
  /// Indexes nest deeper than any real image does.
  case tooDeep(source: String, digest: Digest)
  /// The source's root is neither a manifest nor an index.
  case unsupportedMediaType(source: String, mediaType: String)
  /// A destination stored a manifest under another digest than the one sent.
  case manifestDigestMismatch(destination: String, expected: Digest, actual: Digest)
  /// A destination needs a change to a manifest whose digest must be kept.
  case digestMustBeKept(destination: String, digest: Digest, reason: String)
  /// An index has no entry of the platforms a mutation names.
  case nothingToMutate(source: String, platforms: String)
  /// Annotations asked for on a Docker schema 2 manifest, which has no field for them.
  case noAnnotations(source: String, digest: Digest)
  /// A source lists more referrers of one subject than any real image has.
  case tooManyReferrers(source: String, subject: Digest)

  public var description: String {
    switch self {
    case .blobMismatch(let source, let digest, let reason): "\(source): blob \(digest): \(reason)"
    case .tooDeep(let source, let digest):
      "\(source): index \(digest) nests more than \(CopyJob.maximumIndexDepth) levels deep; refusing it"
    case .unsupportedMediaType(let source, let mediaType):
      "\(source): cannot copy an image whose root has media type \(mediaType)"
    case .manifestDigestMismatch(let destination, let expected, let actual):
      "\(destination) stored the manifest as \(actual), but hoist sent \(expected)"
    case .digestMustBeKept(let destination, let digest, let reason):
      "\(destination): \(reason), which would change the digest of manifest \(digest); refusing, since it must be kept"
    case .nothingToMutate(let source, let platforms): "\(source) has no image for \(platforms)"
    case .noAnnotations(let source, let digest):
      "\(source): manifest \(digest) is Docker schema 2, which has no annotations; use --label, which both "
        + "formats carry"
    case .tooManyReferrers(let source, let subject):
      "\(source) lists more than \(Referrer.maximumPerSubject) referrers of \(subject); refusing them "
        + "(--referrers-type keeps some artifact types only)"
    }
  }

  public var category: ErrorCategory {
    switch self {
    case .blobMismatch, .tooDeep, .unsupportedMediaType, .digestMustBeKept, .noAnnotations: .invalidInput
    case .nothingToMutate: .notFound
    case .manifestDigestMismatch, .tooManyReferrers: .protocolViolation
    }
  }
}
