/// The compression a blob's first bytes reveal, and the streaming decompressor for it.
public enum Compression: Sendable {
  case none, gzip, zstd

  public init(magic: [UInt8]) {
    if magic.starts(with: [0x1f, 0x8b]) {
      self = .gzip
    } else if magic.starts(with: [0x28, 0xb5, 0x2f, 0xfd])
      || (magic.count >= 4 && magic[0] & 0xf0 == 0x50 && magic[1...3].elementsEqual([0x2a, 0x4d, 0x18]))
    {
      // A zstd frame, or a skippable frame (0x184D2A5?) such as zstd:chunked's table of contents.
      self = .zstd
    } else {
      self = .none
    }
  }

  /// A decompressor for this compression; nil for plain data.
  public func decompressor() -> (any Decompressor)? {
    switch self {
    case .none: nil
    case .gzip: GzipDecompressor()
    case .zstd: ZstdDecompressor()
    }
  }
}

/// A streaming decompressor: input in pieces of any size, output handed on a piece at a time.
public protocol Decompressor: AnyObject {
  /// Decompresses `input`, handing what it yields to `sink` in bounded pieces.
  func decompress(_ input: UnsafeRawBufferPointer, into sink: ([UInt8]) throws -> Void) throws
  /// Ends the stream; throws if it stopped inside a frame or member.
  func finish(into sink: ([UInt8]) throws -> Void) throws
}

extension Decompressor {
  /// Decompresses `input` as the whole stream; returns the bytes it yields.
  public func decompress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
    var output = [UInt8]()
    try decompress(input) { output += $0 }
    try finish { output += $0 }
    return output
  }
}
