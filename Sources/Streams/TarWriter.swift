import CArchive

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes a POSIX (pax) tar file member by member through libarchive, with fixed owners and times so that
/// the same members give the same bytes.
public final class TarWriter {
  private let archive: OpaquePointer
  private let path: String
  private var closed = false

  /// Creates (or truncates) the tar file at `path`.
  public init(path: String) throws(StreamError) {
    guard let archive = archive_write_new() else { fatalError("libarchive could not allocate a writer") }
    self.archive = archive
    self.path = path
    archive_write_set_format_pax_restricted(archive)
    // Written `IOSize.preferred` at a time (libarchive writes in block-sized calls), padded at the end to the
    // customary 10240 bytes as before.
    archive_write_set_bytes_per_block(archive, Int32(IOSize.preferred))
    archive_write_set_bytes_in_last_block(archive, 10240)
    guard archive_write_open_filename(archive, path) == ARCHIVE_OK else {
      throw .io(path: path, operation: "create", errno: errno)
    }
  }

  deinit {
    if !closed { archive_write_close(archive) }
    archive_write_free(archive)
  }

  /// Adds a regular file member whose bytes come from `reader` (exactly `size` of them).
  public func add(name: String, size: Int64, from reader: any ByteReader) throws(StreamError) {
    try header(name: name, size: size)
    var written: Int64 = 0
    while written < size {
      let chunk = try reader.read(maxLength: Int(min(Int64(IOSize.preferred), size - written)))
      guard !chunk.isEmpty else { throw .badArchive(path: path, reason: "\(name) ended before its \(size) bytes") }
      try write(chunk, member: name)
      written += Int64(chunk.count)
    }
  }

  /// Adds a regular file member with the given bytes.
  public func add(name: String, bytes: [UInt8]) throws(StreamError) {
    try header(name: name, size: Int64(bytes.count))
    try write(bytes, member: name)
  }

  /// Adds a directory member.
  public func addDirectory(name: String) throws(StreamError) {
    let entry = archive_entry_new()
    defer { archive_entry_free(entry) }
    archive_entry_set_pathname(entry, name)
    archive_entry_set_filetype(entry, 0o040000)
    archive_entry_set_perm(entry, 0o755)
    archive_entry_set_mtime(entry, 0, 0)
    guard archive_write_header(archive, entry) == ARCHIVE_OK else {
      throw .badArchive(path: path, reason: "cannot write \(name): \(message)")
    }
  }

  /// What a member of a layer is, with the metadata a deterministic layer keeps.
  public struct Member: Sendable {
    public enum Kind: Sendable, Equatable {
      case file(size: Int64)
      case directory
      case symlink(target: String)
    }
    public var name: String
    public var kind: Kind
    public var mode: UInt32
    public var mtime: Int
    public var uid: Int
    public var gid: Int

    public init(name: String, kind: Kind, mode: UInt32, mtime: Int, uid: Int = 0, gid: Int = 0) {
      self.name = name
      self.kind = kind
      self.mode = mode
      self.mtime = mtime
      self.uid = uid
      self.gid = gid
    }
  }

  /// Adds a member with its own mode, time and owner; a file's bytes come from `reader`.
  public func add(_ member: Member, from reader: (any ByteReader)? = nil) throws(StreamError) {
    let entry = archive_entry_new()
    defer { archive_entry_free(entry) }
    archive_entry_set_pathname(entry, member.name)
    archive_entry_set_perm(entry, mode_t(member.mode & 0o7777))
    archive_entry_set_mtime(entry, time_t(member.mtime), 0)
    archive_entry_set_uid(entry, la_int64_t(member.uid))
    archive_entry_set_gid(entry, la_int64_t(member.gid))
    switch member.kind {
    case .file(let size):
      archive_entry_set_filetype(entry, 0o100000)
      archive_entry_set_size(entry, size)
    case .directory:
      archive_entry_set_filetype(entry, 0o040000)
    case .symlink(let target):
      archive_entry_set_filetype(entry, 0o120000)
      archive_entry_set_symlink(entry, target)
    }
    guard archive_write_header(archive, entry) == ARCHIVE_OK else {
      throw .badArchive(path: path, reason: "cannot write \(member.name): \(message)")
    }
    guard case .file(let size) = member.kind, let reader else { return }
    var written: Int64 = 0
    while written < size {
      let chunk = try reader.read(maxLength: Int(min(Int64(IOSize.preferred), size - written)))
      guard !chunk.isEmpty else {
        throw .badArchive(path: path, reason: "\(member.name) ended before its \(size) bytes")
      }
      try write(chunk, member: member.name)
      written += Int64(chunk.count)
    }
  }

  /// Finishes the archive (end-of-archive blocks) and closes the file.
  public func close() throws(StreamError) {
    closed = true
    guard archive_write_close(archive) == ARCHIVE_OK else {
      throw .badArchive(path: path, reason: "cannot finish the archive: \(message)")
    }
  }

  private func header(name: String, size: Int64) throws(StreamError) {
    let entry = archive_entry_new()
    defer { archive_entry_free(entry) }
    archive_entry_set_pathname(entry, name)
    archive_entry_set_filetype(entry, 0o100000)
    archive_entry_set_perm(entry, 0o644)
    archive_entry_set_size(entry, size)
    archive_entry_set_mtime(entry, 0, 0)
    guard archive_write_header(archive, entry) == ARCHIVE_OK else {
      throw .badArchive(path: path, reason: "cannot write \(name): \(message)")
    }
  }

  private func write(_ bytes: [UInt8], member: String) throws(StreamError) {
    let written = bytes.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, $0.count) }
    guard written == bytes.count else {
      throw .badArchive(path: path, reason: "cannot write \(member): \(message)")
    }
  }

  private var message: String {
    archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
  }
}
