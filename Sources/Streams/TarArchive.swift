import CArchive
import Foundation

/// One member of a tar archive, as the index pass found it.
public struct TarEntry: Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    case file, directory, symlink, hardlink, other
  }
  /// The normalized path inside the archive (no `./`, no trailing `/`).
  public var name: String
  public var kind: Kind
  public var size: Int64
  /// Where the member's data starts in the file; only known for archives that are not compressed.
  public var dataOffset: Int64?
  /// A symlink's or hardlink's target, as written in the archive.
  public var linkTarget: String?
  /// The member's position in the archive, counting from 0.
  public var ordinal: Int
}

/// A tar file (plain, or compressed with any filter libarchive reads), indexed once and then read in place:
/// plain archives by byte range, compressed ones by streaming to the member.
public final class TarArchive: Sendable {
  public let path: String
  /// Whether the tar is wrapped in a compression filter (gzip, zstd, …), which rules out random access.
  public let isCompressed: Bool
  public let entries: [String: TarEntry]
  private let smallContents: [String: [UInt8]]
  /// The files the tar is kept in, with their sizes: `path` alone, or its parts (`Volumes`).
  let parts: [(path: String, size: Int64)]

  /// The largest member whose bytes the index pass keeps in memory (a JSON document), so metadata is read
  /// once.
  static let smallMemberLimit: Int64 = 256 << 10
  static let smallContentsBudget = 16 << 20

  /// Indexes the archive at `path`: one sequential pass over it.
  public init(path: String) throws(StreamError) {
    self.path = path
    let files = Volumes.parts(of: path)
    parts = files.map { file in
      (file, ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.int64Value ?? 0)
    }
    let handle = try LibarchiveHandle(paths: files)
    var entries = [String: TarEntry]()
    var small = [String: [UInt8]]()
    var smallTotal = 0
    var pending: (entry: TarEntry, headerPosition: Int64)?
    var compressed = false
    var ordinal = 0

    func place(_ entry: TarEntry, nextHeader: Int64) {
      var entry = entry
      if !compressed { entry.dataOffset = nextHeader - ((entry.size + 511) / 512) * 512 }
      entries[entry.name] = entry
    }

    while let header = try handle.nextHeader() {
      if ordinal == 0 { compressed = handle.filterCode != ARCHIVE_FILTER_NONE }
      let position = archive_read_header_position(handle.archive)
      if let previous = pending { place(previous.entry, nextHeader: position) }
      let name = try TarArchive.normalize(header.name, archive: path)
      if entries[name] != nil || pending?.entry.name == name {
        throw .badArchive(path: path, reason: "member \(name) appears twice")
      }
      let entry = TarEntry(
        name: name, kind: header.kind, size: header.size, dataOffset: nil, linkTarget: header.linkTarget,
        ordinal: ordinal)
      if entry.kind == .file, entry.size <= TarArchive.smallMemberLimit,
        smallTotal + Int(entry.size) <= TarArchive.smallContentsBudget
      {
        let contents = try handle.readData(limit: Int(entry.size), member: name)
        // Only documents (manifest.json, repositories, configs, manifests, indexes: JSON) are read again;
        // a small layer is streamed from the file when its turn comes.
        if let first = contents.first, first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
          small[name] = contents
          smallTotal += contents.count
        }
      }
      pending = (entry, position)
      ordinal += 1
    }
    if let last = pending { place(last.entry, nextHeader: archive_read_header_position(handle.archive)) }
    guard ordinal > 0 else { throw .badArchive(path: path, reason: "not a tar archive (it has no members)") }
    self.isCompressed = compressed
    self.entries = entries
    self.smallContents = small
  }

  /// Follows symlinks and hardlinks (relative to the link's folder, resp. the archive root) to a regular file.
  public func resolve(_ name: String) throws(StreamError) -> TarEntry? {
    var current = try TarArchive.normalize(name, archive: path)
    for _ in 0..<16 {
      guard let entry = entries[current] else { return nil }
      switch entry.kind {
      case .file: return entry
      case .symlink, .hardlink:
        let target = entry.linkTarget ?? ""
        let base: String
        if entry.kind == .symlink, let slash = current.lastIndex(of: "/") {
          base = String(current[..<slash]) + "/" + target
        } else {
          base = target
        }
        guard !target.hasPrefix("/") else {
          throw .badMember(path: path, member: name, reason: "link to an absolute path \(target)")
        }
        current = try TarArchive.normalize(base, archive: path)
      default:
        return nil
      }
    }
    throw .badMember(path: path, member: name, reason: "too many levels of links")
  }

  /// Reads a whole regular member, refusing one larger than `limit`.
  public func read(_ name: String, limit: Int) throws(StreamError) -> [UInt8] {
    guard let entry = try resolve(name) else {
      throw .badMember(path: path, member: name, reason: "not in the archive")
    }
    guard entry.size <= Int64(limit) else {
      throw .badMember(path: path, member: name, reason: "\(entry.size) bytes is more than the \(limit) allowed")
    }
    if let bytes = smallContents[entry.name] { return bytes }
    let reader = try open(entry)
    var out = [UInt8]()
    while true {
      let chunk = try reader.read(maxLength: 1 << 20)
      if chunk.isEmpty { break }
      out += chunk
    }
    return out
  }

  /// Opens a regular member for sequential reading, from `offset` bytes into it.
  public func open(_ entry: TarEntry, from offset: Int64 = 0) throws(StreamError) -> any ByteReader {
    let start = min(max(offset, 0), entry.size)
    if let dataOffset = entry.dataOffset {
      guard parts.count > 1 else {
        return try FileRangeReader(path: parts[0].path, offset: dataOffset + start, length: entry.size - start)
      }
      return PartsRangeReader(parts: parts, offset: dataOffset + start, length: entry.size - start)
    }
    // A member of a compressed archive can only be reached by reading up to it.
    let reader = try LibarchiveMemberReader(paths: parts.map(\.path), entry: entry)
    var skipped: Int64 = 0
    while skipped < start {
      let piece = try reader.read(maxLength: Int(min(1 << 20, start - skipped)))
      if piece.isEmpty { break }
      skipped += Int64(piece.count)
    }
    return reader
  }

  /// Makes a member name canonical and refuses names that climb out of the archive.
  static func normalize(_ raw: String, archive: String) throws(StreamError) -> String {
    guard !raw.hasPrefix("/") else {
      throw .badMember(path: archive, member: raw, reason: "absolute member path")
    }
    var parts = [Substring]()
    for part in raw.split(separator: "/", omittingEmptySubsequences: true) {
      switch part {
      case ".": continue
      case "..":
        guard !parts.isEmpty else {
          throw .badMember(path: archive, member: raw, reason: "member path leads outside the archive")
        }
        parts.removeLast()
      default: parts.append(part)
      }
    }
    return parts.joined(separator: "/")
  }
}

/// Streams one member out of a compressed archive by decompressing up to it.
final class LibarchiveMemberReader: ByteReader {
  private let handle: LibarchiveHandle
  private let member: String

  init(paths: [String], entry: TarEntry) throws(StreamError) {
    handle = try LibarchiveHandle(paths: paths)
    member = entry.name
    for _ in 0...entry.ordinal {
      guard try handle.nextHeader() != nil else {
        throw .badMember(path: paths[0], member: entry.name, reason: "vanished on a second read")
      }
    }
  }

  func read(maxLength: Int) throws(StreamError) -> [UInt8] {
    try handle.readData(limit: maxLength, member: member, upTo: true)
  }
}

/// The thin layer over libarchive's read API that the index pass and member readers share.
final class LibarchiveHandle {
  struct Header {
    var name: String
    var kind: TarEntry.Kind
    var size: Int64
    var linkTarget: String?
  }

  let archive: OpaquePointer
  let path: String
  /// The file names libarchive reads from, kept alive as long as it may open them.
  private var names: [UnsafePointer<CChar>?]

  /// Reads the file, or the parts, at `paths` as one stream.
  init(paths: [String]) throws(StreamError) {
    guard let archive = archive_read_new() else { fatalError("libarchive could not allocate a reader") }
    self.archive = archive
    self.path = paths[0]
    names = paths.map { UnsafePointer(strdup($0)) } + [nil]
    archive_read_support_filter_all(archive)
    archive_read_support_format_tar(archive)
    archive_read_support_format_gnutar(archive)
    let opened = names.withUnsafeMutableBufferPointer { archive_read_open_filenames(archive, $0.baseAddress, 1 << 20) }
    if opened != ARCHIVE_OK {
      throw .badArchive(path: path, reason: LibarchiveHandle.reason(archive))
    }
  }

  deinit {
    archive_read_free(archive)
    for name in names { free(UnsafeMutablePointer(mutating: name)) }
  }

  var filterCode: Int32 { archive_filter_code(archive, 0) }

  /// The next member's header, or nil at the end of the archive.
  func nextHeader() throws(StreamError) -> Header? {
    var entry: OpaquePointer?
    let status = archive_read_next_header(archive, &entry)
    if status == ARCHIVE_EOF { return nil }
    guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
      throw .badArchive(path: path, reason: LibarchiveHandle.reason(archive))
    }
    let name = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
    let kind: TarEntry.Kind
    var link: String?
    if let hard = archive_entry_hardlink(entry) {
      kind = .hardlink
      link = String(cString: hard)
    } else {
      switch archive_entry_filetype(entry) {
      case 0o100000: kind = .file
      case 0o040000: kind = .directory
      case 0o120000:
        kind = .symlink
        link = archive_entry_symlink(entry).map { String(cString: $0) }
      default: kind = .other
      }
    }
    let size = archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : 0
    guard size >= 0 else { throw .badMember(path: path, member: name, reason: "negative size") }
    return Header(name: name, kind: kind, size: kind == .file ? size : 0, linkTarget: link)
  }

  /// Reads the current member's data: exactly `limit` bytes (or fewer at its end when `upTo` is set).
  func readData(limit: Int, member: String, upTo: Bool = false) throws(StreamError) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: limit)
    var filled = 0
    while filled < limit {
      let n = buffer.withUnsafeMutableBytes { raw in
        archive_read_data(archive, raw.baseAddress! + filled, limit - filled)
      }
      if n < 0 {
        throw .badMember(
          path: path, member: member, reason: "damaged or truncated (\(LibarchiveHandle.message(archive)))")
      }
      if n == 0 { break }
      filled += n
    }
    if filled < limit {
      guard upTo else { throw .badMember(path: path, member: member, reason: "truncated") }
      buffer.removeLast(limit - filled)
    }
    return buffer
  }

  /// What went wrong opening or walking the archive, in a user's words.
  static func reason(_ archive: OpaquePointer) -> String {
    let message = message(archive)
    return message.contains("Unrecognized archive format")
      ? "not a tar archive" : "damaged or truncated archive (\(message))"
  }

  static func message(_ archive: OpaquePointer) -> String {
    archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
  }
}
