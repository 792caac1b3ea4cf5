/// A sequential source of bytes: a file range, an archive member, a decompressor.
public protocol ByteReader: AnyObject {
  /// Reads up to `maxLength` bytes; an empty array means the end.
  func read(maxLength: Int) throws(StreamError) -> [UInt8]
}

extension FileRangeReader: ByteReader {}
