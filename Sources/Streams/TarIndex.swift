/// One member of a tar, as a zTOC lists it: its header's fields and where its data starts in the
/// uncompressed stream.
public struct TOCEntry: Sendable, Equatable {
  public var name = ""
  /// `reg`, `dir`, `symlink`, `hardlink`, `char`, `block` or `fifo`.
  public var type = ""
  /// Where the member's data starts: just past its header (and any PAX or GNU long-name headers).
  public var dataOffset: Int64 = 0
  public var size: Int64 = 0
  public var linkname = ""
  public var mode: Int64 = 0
  public var uid: UInt32 = 0
  public var gid: UInt32 = 0
  public var uname = ""
  public var gname = ""
  /// RFC 3339 in UTC with the fraction only when there is one; empty for a year outside 0…9999.
  public var modTime = ""
  public var devmajor: Int64 = 0
  public var devminor: Int64 = 0
  /// Every record of the member's PAX header (xattrs among them), which is what a zTOC keeps.
  public var records: [String: String] = [:]
}

/// Lists a tar's members as its bytes stream past, reading the headers only, with the meanings Go's
/// `archive/tar` gives them (the SOCI tools list a layer through it, and the snapshotter reads what they
/// list): PAX and GNU long names and sizes applied, a header-only type's data taken as empty, the end after
/// two zero blocks.
public final class TarIndex {
  public private(set) var entries = [TOCEntry]()
  /// Why the tar cannot be listed (a member type a zTOC has no name for, a PAX global header, a broken
  /// header); nil while it can.
  public private(set) var problem: String?
  /// Bytes seen so far.
  public private(set) var position: Int64 = 0
  /// Where the archive ends: after its two zero blocks, else where its bytes stop.
  public var archiveSize: Int64 { end ?? position }

  private var end: Int64?
  private var header = [UInt8]()
  /// Bytes of data (and padding) to pass over before the next header.
  private var skip: Int64 = 0
  /// The extended header being read (`x`, `L` or `K`), its data, and how much of it is left.
  private var extended: (kind: UInt8, data: [UInt8], left: Int64, padding: Int64)?
  private var pax = [String: String]()
  private var longName: String?
  private var longLink: String?
  private var sawZeroBlock = false

  public init() {}

  /// Reads the next bytes of the tar.
  public func add(_ bytes: UnsafeRawBufferPointer) {
    var rest = bytes[...]
    while !rest.isEmpty, end == nil, problem == nil {
      if skip > 0 {
        let n = Int(min(skip, Int64(rest.count)))
        skip -= Int64(n)
        advance(&rest, by: n)
      } else if var reading = extended {
        let n = Int(min(reading.left, Int64(rest.count)))
        reading.data += rest.prefix(n)
        reading.left -= Int64(n)
        advance(&rest, by: n)
        if reading.left == 0 {
          extended = nil
          skip = reading.padding
          applyExtended(reading.kind, reading.data)
        } else {
          extended = reading
        }
      } else {
        let n = min(512 - header.count, rest.count)
        header += rest.prefix(n)
        advance(&rest, by: n)
        if header.count == 512 {
          let block = header
          header = []
          readHeader(block)
        }
      }
    }
    if end == nil { position += Int64(rest.count) }
  }

  /// Reads the next bytes of the tar.
  public func add(_ bytes: [UInt8]) { bytes.withUnsafeBytes { add($0) } }

  /// Checks that the tar ended where a header could start; sets `problem` when it did not.
  public func finish() {
    if end == nil, problem == nil, !header.isEmpty || extended != nil || skip > 0 {
      problem = "the tar ends inside a member"
    }
  }

  private func advance(_ rest: inout Slice<UnsafeRawBufferPointer>, by n: Int) {
    rest = rest.dropFirst(n)
    position += Int64(n)
  }

  private func readHeader(_ block: [UInt8]) {
    if block.allSatisfy({ $0 == 0 }) {
      if sawZeroBlock { end = position } else { sawZeroBlock = true }
      return
    }
    guard !sawZeroBlock else { return fail("a zero block is followed by a header") }
    guard Self.checksumMatches(block) else { return fail("a header's checksum does not match") }
    let flag = block[156]
    let size = Self.number(block[124..<136])
    guard (0...Self.largestSize).contains(size) else { return fail("a header's size is out of range") }
    switch flag {
    case UInt8(ascii: "x"), UInt8(ascii: "L"), UInt8(ascii: "K"):
      guard size <= 1 << 20 else { return fail("an extended header is larger than 1 MiB") }
      if size == 0 {
        applyExtended(flag, [])
      } else {
        extended = (flag, [], size, (size + 511) / 512 * 512 - size)
      }
    case UInt8(ascii: "g"): fail("it has a PAX global header")
    default: readMember(block, flag: flag, size: size)
    }
  }

  private func readMember(_ block: [UInt8], flag: UInt8, size: Int64) {
    let magic = Array(block[257..<265])
    let ustar = magic == Array("ustar\u{0}00".utf8)
    let gnu = magic == Array("ustar  \u{0}".utf8)
    var entry = TOCEntry()
    entry.name = Self.text(block[0..<100])
    if ustar, case let prefix = Self.text(block[345..<500]), !prefix.isEmpty { entry.name = prefix + "/" + entry.name }
    entry.linkname = Self.text(block[157..<257])
    entry.mode = Self.number(block[100..<108])
    entry.uid = UInt32(truncatingIfNeeded: Self.number(block[108..<116]))
    entry.gid = UInt32(truncatingIfNeeded: Self.number(block[116..<124]))
    entry.size = size
    var seconds = Self.number(block[136..<148])
    var nanoseconds: Int64 = 0
    if ustar || gnu {
      entry.uname = Self.text(block[265..<297])
      entry.gname = Self.text(block[297..<329])
      entry.devmajor = Self.number(block[329..<337])
      entry.devminor = Self.number(block[337..<345])
    }
    for (key, value) in pax where !value.isEmpty {
      switch key {
      case "path": entry.name = value
      case "linkpath": entry.linkname = value
      case "uname": entry.uname = value
      case "gname": entry.gname = value
      case "uid": entry.uid = UInt32(truncatingIfNeeded: Int64(value) ?? Int64(entry.uid))
      case "gid": entry.gid = UInt32(truncatingIfNeeded: Int64(value) ?? Int64(entry.gid))
      case "size": entry.size = Int64(value) ?? entry.size
      case "mtime": (seconds, nanoseconds) = Self.paxTime(value) ?? (seconds, nanoseconds)
      default: break
      }
    }
    if let longName { entry.name = longName }
    if let longLink { entry.linkname = longLink }
    entry.records = pax
    (pax, longName, longLink) = ([:], nil, nil)
    entry.modTime = RFC3339.utc(seconds: seconds, nanoseconds: nanoseconds)
    entry.dataOffset = position
    let headerOnly: Bool
    switch flag {
    case 0, UInt8(ascii: "0"):
      entry.type = flag == 0 && entry.name.hasSuffix("/") ? "dir" : "reg"
      headerOnly = entry.type == "dir"
    case UInt8(ascii: "1"): (entry.type, headerOnly) = ("hardlink", true)
    case UInt8(ascii: "2"): (entry.type, headerOnly) = ("symlink", true)
    case UInt8(ascii: "3"): (entry.type, headerOnly) = ("char", true)
    case UInt8(ascii: "4"): (entry.type, headerOnly) = ("block", true)
    case UInt8(ascii: "5"): (entry.type, headerOnly) = ("dir", true)
    case UInt8(ascii: "6"): (entry.type, headerOnly) = ("fifo", true)
    default: return fail("member \(entry.name) has type '\(Character(UnicodeScalar(flag)))', which a zTOC cannot list")
    }
    guard (0...Self.largestSize).contains(entry.size) else {
      return fail("member \(entry.name) has a size out of range")
    }
    entries.append(entry)
    skip = headerOnly ? 0 : (entry.size + 511) / 512 * 512
  }

  private func applyExtended(_ kind: UInt8, _ data: [UInt8]) {
    switch kind {
    case UInt8(ascii: "x"):
      guard let records = Self.paxRecords(data) else { return fail("a PAX header is malformed") }
      pax = records
    case UInt8(ascii: "L"): longName = Self.text(data[...])
    default: longLink = Self.text(data[...])
    }
  }

  private func fail(_ reason: String) {
    if problem == nil { problem = reason }
  }

  /// The largest member a tar may hold here (an exabyte), so that sizes padded to blocks cannot overflow.
  static let largestSize: Int64 = 1 << 60

  /// A NUL-terminated field.
  static func text(_ field: ArraySlice<UInt8>) -> String {
    String(decoding: field.prefix(while: { $0 != 0 }), as: UTF8.self)
  }

  /// An octal field (spaces and NULs around it), or base-256 when its first byte has the high bit set.
  static func number(_ field: ArraySlice<UInt8>) -> Int64 {
    if let first = field.first, first & 0x80 != 0 {
      var value = Int64(first & 0x3f)
      if first & 0x40 != 0 { value -= 0x40 }
      for byte in field.dropFirst() { value = value &<< 8 | Int64(byte) }
      return value
    }
    var value: Int64 = 0
    for byte in field where byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "7") {
      value = value &* 8 &+ Int64(byte - UInt8(ascii: "0"))
    }
    return value
  }

  static func checksumMatches(_ block: [UInt8]) -> Bool {
    var unsigned: Int64 = 0
    var signed: Int64 = 0
    for (i, byte) in block.enumerated() {
      let value = (148..<156).contains(i) ? UInt8(ascii: " ") : byte
      unsigned += Int64(value)
      signed += Int64(Int8(bitPattern: value))
    }
    let stored = number(block[148..<156])
    return stored == unsigned || stored == signed
  }

  /// PAX records (`LENGTH key=value\n`); nil when one is malformed.
  static func paxRecords(_ data: [UInt8]) -> [String: String]? {
    var records = [String: String]()
    var rest = data[...]
    while !rest.isEmpty {
      guard let space = rest.firstIndex(of: UInt8(ascii: " ")),
        let length = Int(String(decoding: rest[rest.startIndex..<space], as: UTF8.self)),
        length > space - rest.startIndex + 1, length <= rest.count
      else { return nil }
      let record = rest[(space + 1)..<(rest.startIndex + length)]
      guard record.last == UInt8(ascii: "\n"), let equals = record.firstIndex(of: UInt8(ascii: "=")) else { return nil }
      let key = String(decoding: record[record.startIndex..<equals], as: UTF8.self)
      records[key] = String(decoding: record[(equals + 1)..<(record.endIndex - 1)], as: UTF8.self)
      rest = rest[(rest.startIndex + length)...]
    }
    return records
  }

  /// A PAX time, `SECONDS[.FRACTION]`.
  static func paxTime(_ text: String) -> (Int64, Int64)? {
    let parts = text.split(separator: ".", maxSplits: 1)
    guard let whole = parts.first, let seconds = Int64(whole) else { return nil }
    guard parts.count == 2 else { return (seconds, 0) }
    let digits = String(parts[1].prefix(9)).padding(toLength: 9, withPad: "0", startingAt: 0)
    guard let fraction = Int64(digits) else { return nil }
    guard text.hasPrefix("-"), fraction > 0 else { return (seconds, fraction) }
    return (seconds - 1, 1_000_000_000 - fraction)
  }
}

/// RFC 3339 timestamps as Go's `time.Time.MarshalText` writes them for UTC.
enum RFC3339 {
  static func utc(seconds: Int64, nanoseconds: Int64) -> String {
    // Far outside years 0…9999 either way; also keeps the arithmetic below from overflowing.
    guard (-(1 << 40)...(1 << 40)).contains(seconds) else { return "" }
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let rest = seconds - days * 86_400
    let (year, month, day) = civil(days: days)
    guard (0...9999).contains(year) else { return "" }
    var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
    text += "T" + pad(rest / 3600, 2) + ":" + pad(rest / 60 % 60, 2) + ":" + pad(rest % 60, 2)
    if nanoseconds > 0 {
      var fraction = pad(nanoseconds, 9)
      while fraction.hasSuffix("0") { fraction.removeLast() }
      text += "." + fraction
    }
    return text + "Z"
  }

  private static func pad(_ value: Int64, _ width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
  }

  /// Year, month, day of a count of days since 1970-01-01 (the proleptic Gregorian calendar).
  private static func civil(days: Int64) -> (Int64, Int64, Int64) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let shifted = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * shifted + 2) / 5 + 1
    let month = shifted < 10 ? shifted + 3 : shifted - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }
}
