import CZlib

/// Checkpoints of a gzip stream another tool wrote, taken as zlib's `zran.c` and soci-snapshotter take them:
/// the stream is inflated once (zlib, stopping at every deflate block's end), and a checkpoint is kept at
/// the first block boundary more than `span` bytes of output past the last one (the first right after the
/// header), with the bits left over and the 32 KiB window. Concatenated members (`mgzip`'s, BGZF's) are read
/// on, their counts running across; a member's start is a block boundary like any other, a checkpoint only
/// where the span is reached, so a layer of many small members gets no more checkpoints than one of one
/// member. The output goes to a sink as it is made.
public final class GzipIndexer {
  public let span: Int64
  private var stream = z_stream()
  private let window = UnsafeMutablePointer<UInt8>.allocate(capacity: GzipCheckpoints.windowSize)
  private var points = [GzipCheckpoint]()
  private var hashes = SpanHashes()
  private var totalIn: Int64 = 0
  private var totalOut: Int64 = 0
  /// Whether a member has ended and no other has begun since.
  private var memberEnded = false
  private var lastByte: UInt8 = 0

  public init(span: Int) {
    self.span = Int64(span)
    window.initialize(repeating: 0, count: GzipCheckpoints.windowSize)
    let status = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    precondition(status == Z_OK, "zlib inflateInit2 failed: \(status)")
  }

  deinit {
    inflateEnd(&stream)
    window.deallocate()
  }

  /// Inflates the next compressed bytes, handing the output to `sink`; throws on bytes that are not gzip.
  public func add(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) -> Void) throws(StreamError) {
    guard let base = input.baseAddress, input.count > 0 else { return }
    var position = 0
    while position < input.count {
      if memberEnded {
        inflateReset(&stream)
        memberEnded = false
      }
      if stream.avail_out == 0 {
        stream.next_out = window
        stream.avail_out = uInt(GzipCheckpoints.windowSize)
      }
      let outStart = stream.next_out!
      let outBefore = Int(stream.avail_out)
      stream.next_in = UnsafeMutablePointer(mutating: (base + position).assumingMemoryBound(to: Bytef.self))
      stream.avail_in = uInt(input.count - position)
      let status = inflate(&stream, Z_BLOCK)
      let consumed = input.count - position - Int(stream.avail_in)
      let produced = outBefore - Int(stream.avail_out)
      stream.next_in = nil
      if consumed > 0 {
        hashes.add(UnsafeRawBufferPointer(start: base + position, count: consumed))
        lastByte = input[position + consumed - 1]
      }
      position += consumed
      totalIn += Int64(consumed)
      totalOut += Int64(produced)
      if produced > 0 { sink(UnsafeRawBufferPointer(start: outStart, count: produced)) }
      if status == Z_STREAM_END {
        memberEnded = true
        continue
      }
      guard status == Z_OK || (status == Z_BUF_ERROR && consumed == 0 && produced == 0) else {
        throw .badArchive(path: "gzip stream", reason: "not valid gzip data (zlib status \(status))")
      }
      if status == Z_BUF_ERROR { break }
      // At a block boundary other than the last block's end: a checkpoint if one is due.
      guard stream.data_type & 128 != 0 && stream.data_type & 64 == 0 else { continue }
      if points.last.map({ totalOut - $0.uncompressedOffset > span }) ?? true {
        addCheckpoint(bits: UInt8(stream.data_type & 7))
      }
    }
  }

  /// Ends the stream; throws when it stopped inside a member.
  public func finish() throws(StreamError) -> GzipCheckpoints {
    guard memberEnded else { throw .badArchive(path: "gzip stream", reason: "it ends inside a gzip member") }
    return GzipCheckpoints(span: span, points: points, spanDigests: hashes.finish())
  }

  private func addCheckpoint(bits: UInt8) {
    let size = GzipCheckpoints.windowSize
    let left = Int(stream.avail_out)
    // The window is circular: the oldest output starts where the next will be written.
    var copy = [UInt8](repeating: 0, count: size)
    copy.withUnsafeMutableBufferPointer { out in
      if left > 0 { out.baseAddress!.update(from: window + (size - left), count: left) }
      if left < size { (out.baseAddress! + left).update(from: window, count: size - left) }
    }
    points.append(GzipCheckpoint(compressedOffset: totalIn, uncompressedOffset: totalOut, bits: bits, window: copy))
    hashes.startSpan(priming: bits == 0 ? nil : lastByte)
  }
}
