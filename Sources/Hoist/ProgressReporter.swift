import Foundation
import OCI
import Transfer

#if canImport(Glibc)
  import Glibc
#endif

/// How progress is shown on stderr.
public enum ProgressMode: String, Sendable, CaseIterable {
  /// `tty` on a terminal, `plain` elsewhere.
  case auto
  /// One line per blob with bytes, rate and ETA, and a total line, redrawn in place.
  case tty
  /// A line per blob event, and a total line at least every 10 seconds.
  case plain
  /// One JSON object per line.
  case json
  /// Nothing.
  case none
}

/// Turns the engine's events into what the mode shows. Events arrive from several tasks at once; a lock
/// keeps the state and the output whole.
public final class ProgressReporter: @unchecked Sendable {
  struct Blob {
    var size: Int64
    var done: Int64 = 0
    var state: String
    var started = Date()
  }

  let mode: ProgressMode
  let verb: String
  /// What a finished blob underwent: pushed, pulled, copied.
  var pastTense: String { verb.hasSuffix("y") ? verb.dropLast() + "ied" : verb + "ed" }
  let totalInterval: TimeInterval
  private let lock = NSLock()
  private var blobs = [Digest: Blob]()
  private var order = [Digest]()
  private var drawnLines = 0
  private var lastDraw = Date.distantPast
  private var lastTotal = Date()
  private var lastJSONProgress = [Digest: Date]()
  private let start = Date()
  private var ticker: Task<Void, Never>?
  private var finished = false
  private let color = ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
  /// The image the event being handled belongs to, when a run copies several at once.
  private var image: String?

  /// A reporter drawing in `mode` (not `auto`) for blobs that undergo `verb` (push, pull, copy), with a
  /// total line every `totalInterval` seconds in plain mode.
  public init(mode: ProgressMode, verb: String, totalInterval: TimeInterval) {
    self.mode = mode
    self.verb = verb
    self.totalInterval = totalInterval
    if mode == .plain {
      ticker = Task { [weak self] in
        while !Task.isCancelled {
          try? await pause(seconds: max(0.2, totalInterval / 4))
          self?.tick()
        }
      }
    }
  }

  /// The function to hand to the copy engine.
  public var report: @Sendable (ProgressEvent) -> Void { { [self] event in handle(event) } }

  private func handle(_ event: ProgressEvent) {
    lock.lock()
    defer { lock.unlock() }
    if case .of(let image, let inner) = event {
      self.image = image
      defer { self.image = nil }
      show(inner)
    } else {
      show(event)
    }
    if mode == .tty { draw(force: false) }
  }

  /// Shows one event (called with the lock held).
  private func show(_ event: ProgressEvent) {
    switch event {
    case .notice(let text):
      switch mode {
      case .json: emit(["event": "notice", "message": text])
      case .plain: line("note: \(prefix)\(text)")
      case .tty: lineAboveTable("note: \(prefix)\(text)")
      default: break
      }
    case .blobStarted(let digest, let size, let compressing):
      track(digest, Blob(size: size, state: compressing ? "compress+\(verb)" : verb))
      plainOrJSON(
        "\(verb)ing".padded + " \(digest.short) (\(formatBytes(size))\(compressing ? ", compressing" : ""))",
        ["event": "start", "digest": digest.description, "size": size, "compressing": compressing])
    case .blobSkipped(let digest, let size):
      track(digest, Blob(size: size, done: size, state: "exists"))
      plainOrJSON(
        "exists".padded + " \(digest.short) (\(formatBytes(size)))",
        ["event": "skip", "digest": digest.description, "size": size, "reason": "exists"])
    case .blobMounted(let digest, let origin):
      track(digest, Blob(size: 0, state: "mounted"))
      plainOrJSON(
        "mounted".padded + " \(digest.short) from \(origin)",
        ["event": "mount", "digest": digest.description, "reason": "mounted from \(origin)"])
    case .blobRetried(let digest, let attempt, let reason):
      blobs[digest]?.done = 0
      plainOrJSON(
        "retrying".padded + " \(digest.short) (attempt \(attempt)): \(reason)",
        ["event": "retry", "digest": digest.description, "attempt": attempt, "reason": reason])
    case .blobResumed(let digest, let bytes):
      blobs[digest]?.done = bytes
      plainOrJSON(
        "resuming".padded + " \(digest.short) at \(formatBytes(bytes))",
        ["event": "resume", "digest": digest.description, "bytes": bytes])
    case .blobProgress(let digest, let bytes):
      blobs[digest]?.done = bytes
      if mode == .json, Date().timeIntervalSince(lastJSONProgress[digest] ?? .distantPast) >= 1 {
        lastJSONProgress[digest] = Date()
        emit(["event": "progress", "digest": digest.description, "bytes": bytes, "size": blobs[digest]?.size ?? 0])
      }
    case .blobDone(let digest, let stored, let sent):
      if var blob = blobs[digest] {
        blob.done = blob.size
        blob.state = "done"
        blobs[digest] = blob
      }
      let renamed = stored == digest ? "" : " as \(stored.short)"
      plainOrJSON(
        pastTense.padded + " \(digest.short)\(renamed) (\(formatBytes(sent)))",
        [
          "event": "done", "digest": digest.description, "stored": stored.description, "sent": sent,
          "size": blobs[digest]?.size ?? sent,
        ])
    case .referrerFound, .manifestStored: handleDocument(event)
    case .of(_, let inner): show(inner)
    }
  }

  /// A referrer found, or a manifest stored (called with the lock held).
  private func handleDocument(_ event: ProgressEvent) {
    switch event {
    case .referrerFound(let digest, let subject, let artifactType, let tag):
      var object: [String: Any] = ["event": "referrer", "digest": digest.description, "subject": subject.description]
      if let artifactType { object["artifactType"] = artifactType }
      if let tag { object["tag"] = tag }
      let text =
        "referrer".padded + " \(digest.short) (\(artifactType ?? "no artifact type")) of \(subject.short)"
        + (tag.map { " under \($0)" } ?? "")
      if mode == .tty { lineAboveTable(prefix + text) } else { plainOrJSON(text, object) }
    case .manifestStored(let target, let digest):
      plainOrJSON(
        "manifest".padded + " \(target) \(digest.short)",
        ["event": "manifest", "target": target, "digest": digest.description])
    default: break
    }
  }

  /// Ends the display: the final state drawn, or the final total line printed. Call it before printing
  /// results to stdout; later calls do nothing.
  public func finish() {
    ticker?.cancel()
    lock.lock()
    defer { lock.unlock() }
    guard !finished else { return }
    finished = true
    switch mode {
    case .tty:
      draw(force: true)
    case .plain where !blobs.isEmpty:
      line(totalText())
    case .json where !blobs.isEmpty:
      emit(["event": "total", "bytes": totals().done, "size": totals().size, "blobs": blobs.count])
    default: break
    }
  }

  private func tick() {
    lock.lock()
    defer { lock.unlock() }
    guard Date().timeIntervalSince(lastTotal) >= totalInterval, !blobs.isEmpty else { return }
    line(totalText())
  }

  private func track(_ digest: Digest, _ blob: Blob) {
    if blobs[digest] == nil { order.append(digest) }
    blobs[digest] = blob
  }

  private func plainOrJSON(_ text: String, _ object: [String: Any]) {
    switch mode {
    case .plain: line(prefix + text)
    case .json: emit(object)
    default: break
    }
  }

  /// What a plain line starts with: the image it is about, when a run copies several at once.
  private var prefix: String { image.map { "\($0): " } ?? "" }

  private func totals() -> (done: Int64, size: Int64) {
    blobs.values.reduce((0, 0)) { ($0.0 + $1.done, $0.1 + $1.size) }
  }

  private func totalText() -> String {
    lastTotal = Date()
    let (done, size) = totals()
    let finished = blobs.values.filter { $0.done >= $0.size }.count
    let elapsed = max(Date().timeIntervalSince(start), 0.001)
    return "total".padded
      + " \(finished)/\(blobs.count) blobs, \(formatBytes(done)) of \(formatBytes(size)), "
      + "\(formatBytes(Int64(Double(done) / elapsed)))/s"
  }

  /// A line that stays, written where the table is and the table drawn again below it.
  private func lineAboveTable(_ text: String) {
    let up = drawnLines > 0 ? "\u{1B}[\(drawnLines)F\u{1B}[J" : ""
    drawnLines = 0
    try? FileHandle.standardError.write(contentsOf: Data((up + text + "\n").utf8))
    if !blobs.isEmpty { draw(force: true) }
  }

  private func line(_ text: String) {
    try? FileHandle.standardError.write(contentsOf: Data((text + "\n").utf8))
  }

  private func emit(_ object: [String: Any]) {
    var object = object
    if let image { object["image"] = image }
    guard
      let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    else { return }
    try? FileHandle.standardError.write(contentsOf: data + Data("\n".utf8))
  }

  /// Redraws the blob lines and the total line in place, at most ten times a second unless `force`d.
  private func draw(force: Bool) {
    guard force || Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
    lastDraw = Date()
    let width = terminalWidth()
    var out = drawnLines > 0 ? "\u{1B}[\(drawnLines)F" : ""
    var lines = order.compactMap { digest -> String? in
      guard let blob = blobs[digest] else { return nil }
      return render(digest, blob)
    }
    lines.append(totalText())
    for text in lines {
      let clipped = text.count > width - 1 ? String(text.prefix(max(width - 2, 10))) + "…" : text
      out += "\u{1B}[2K" + clipped + "\n"
    }
    drawnLines = lines.count
    try? FileHandle.standardError.write(contentsOf: Data(out.utf8))
  }

  private func render(_ digest: Digest, _ blob: Blob) -> String {
    let state = blob.state.padded
    guard blob.state != "done" && blob.state != "exists" && blob.state != "mounted" else {
      let mark = color ? "\u{1B}[32m✔\u{1B}[0m" : "✔"
      return "\(mark) \(state) \(digest.short) \(formatBytes(blob.size))"
    }
    let elapsed = max(Date().timeIntervalSince(blob.started), 0.001)
    let rate = Double(blob.done) / elapsed
    let eta = rate > 0 ? Int(min(Double(blob.size - blob.done) / rate, 1e9)) : 0
    let percent = blob.size > 0 ? Int(blob.done * 100 / blob.size) : 0
    return "  \(state) \(digest.short) \(formatBytes(blob.done))/\(formatBytes(blob.size)) \(percent)% "
      + "\(formatBytes(Int64(rate)))/s ETA \(eta)s"
  }

  private func terminalWidth() -> Int {
    var size = winsize()
    if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    guard let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), (20...1000).contains(columns)
    else { return 80 }
    return columns
  }
}

extension String {
  /// The text padded to the width of the longest event word, so digests line up.
  fileprivate var padded: String { padding(toLength: max(count, 8), withPad: " ", startingAt: 0) }
}

/// `12.3 MB`-style sizes (decimal units, as registries and docker show them).
public func formatBytes(_ bytes: Int64) -> String {
  let units = ["B", "kB", "MB", "GB", "TB"]
  var value = Double(bytes)
  var unit = 0
  while value >= 1000 && unit < units.count - 1 {
    value /= 1000
    unit += 1
  }
  return unit == 0 ? "\(bytes) B" : "\(String(format: "%.1f", value)) \(units[unit])"
}
