/// Writes a FlatBuffers document (https://flatbuffers.dev/internals): tables, strings, byte vectors and
/// vectors of tables or strings, which is all a zTOC holds. No FlatBuffers package is available here, so
/// this writer lays the buffer out front to back: each object is written after the one that points to it,
/// and the unsigned offset pointing to it is filled in once it has a place.
public struct FlatBufferWriter {
  /// A value a table field or vector element refers to.
  public indirect enum Object {
    /// A table: its fields by field id (nil: absent, the reader's default).
    case table([Field?])
    case string(String)
    /// A `[ubyte]` vector of `count` bytes, which `write` appends to the document (no copy of its own).
    case bytes(count: Int, write: (inout [UInt8]) -> Void)
    /// A vector of tables or strings (offsets to each).
    case vector([Object])
  }

  /// A table field: a little-endian scalar of 1, 2, 4 or 8 bytes, or an offset to an object.
  public enum Field {
    case scalar(UInt64, size: Int)
    case object(Object)

    public static func int64(_ value: Int64) -> Field { .scalar(UInt64(bitPattern: value), size: 8) }
    public static func int32(_ value: Int32) -> Field { .scalar(UInt64(UInt32(bitPattern: value)), size: 4) }
    public static func uint32(_ value: UInt32) -> Field { .scalar(UInt64(value), size: 4) }
    public static func int8(_ value: Int8) -> Field { .scalar(UInt64(UInt8(bitPattern: value)), size: 1) }
    public static func string(_ value: String) -> Field { .object(.string(value)) }

    var size: Int {
      if case .scalar(_, let size) = self { return size }
      return 4
    }
  }

  private var buffer = [UInt8]()
  /// Offsets written but not yet filled in: where each is, and what it points to.
  private var pending = [(at: Int, object: Object)]()

  /// The document whose root table is `root`.
  public static func document(root: [Field?]) -> [UInt8] {
    var writer = FlatBufferWriter()
    writer.buffer = [0, 0, 0, 0]
    writer.pending = [(0, .table(root))]
    var next = 0
    while next < writer.pending.count {
      let (at, object) = writer.pending[next]
      next += 1
      let position = writer.write(object)
      writer.put(UInt64(position - at), size: 4, at: at)
    }
    return writer.buffer
  }

  /// Writes an object; returns the position its offsets point to.
  private mutating func write(_ object: Object) -> Int {
    switch object {
    case .string(let text):
      align(4)
      let start = buffer.count
      append(UInt64(text.utf8.count), size: 4)
      buffer += text.utf8
      buffer.append(0)
      return start
    case .bytes(let count, let write):
      align(4)
      let start = buffer.count
      append(UInt64(count), size: 4)
      write(&buffer)
      precondition(buffer.count == start + 4 + count, "a byte vector wrote other than its count")
      return start
    case .vector(let elements):
      align(4)
      let start = buffer.count
      append(UInt64(elements.count), size: 4)
      for element in elements {
        pending.append((buffer.count, element))
        append(0, size: 4)
      }
      return start
    case .table(let fields):
      return writeTable(fields)
    }
  }

  /// A vtable (field id → offset in the table), then the table: its offset to the vtable, then its fields,
  /// largest first so each sits at its natural alignment.
  private mutating func writeTable(_ fields: [Field?]) -> Int {
    let present = fields.indices.filter { fields[$0] != nil }
    let slots = (present.last ?? -1) + 1
    align(2)
    let vtable = buffer.count
    append(UInt64(4 + 2 * slots), size: 2)
    append(0, size: 2)
    for _ in 0..<slots { append(0, size: 2) }
    let widest = present.map { fields[$0]!.size }.max() ?? 4
    align(max(4, widest))
    let table = buffer.count
    append(UInt64(UInt32(bitPattern: Int32(table - vtable))), size: 4)
    for id in present.sorted(by: { fields[$0]!.size > fields[$1]!.size }) {
      let field = fields[id]!
      align(field.size)
      put(UInt64(buffer.count - table), size: 2, at: vtable + 4 + 2 * id)
      switch field {
      case .scalar(let value, let size): append(value, size: size)
      case .object(let object):
        pending.append((buffer.count, object))
        append(0, size: 4)
      }
    }
    put(UInt64(buffer.count - table), size: 2, at: vtable + 2)
    return table
  }

  private mutating func align(_ size: Int) {
    while buffer.count % size != 0 { buffer.append(0) }
  }

  private mutating func append(_ value: UInt64, size: Int) {
    for shift in 0..<size { buffer.append(UInt8(truncatingIfNeeded: value >> (8 * shift))) }
  }

  private mutating func put(_ value: UInt64, size: Int, at position: Int) {
    for shift in 0..<size { buffer[position + shift] = UInt8(truncatingIfNeeded: value >> (8 * shift)) }
  }
}
