import Foundation
import OCI

#if canImport(Glibc)
  import Glibc
#endif

/// A program hoist runs for credentials (a docker credential helper, an AWS `credential_process`): its input
/// written, its output read up to a limit, and a time limit after which it is killed. A program that never
/// exits, or whose children keep its output open, cannot hang hoist.
public struct HelperProcess: Sendable {
  /// The program and its arguments; the program is looked up on `PATH`.
  public var arguments: [String]
  /// Seconds the program may run.
  public var timeout: Double
  /// Its standard error joins its output (else it goes to hoist's own standard error).
  public var mergeStandardError: Bool

  /// The most output read from a helper: far more than any credential.
  public static let outputLimit = 1 << 20

  public init(arguments: [String], timeout: Double, mergeStandardError: Bool) {
    (self.arguments, self.timeout, self.mergeStandardError) = (arguments, timeout, mergeStandardError)
  }

  /// `HOIST_HELPER_TIMEOUT` from `environment`: seconds from 1 to 3600, default 60 (the AWS CLI's bound
  /// class for `credential_process`).
  public static func timeout(from environment: [String: String]) throws -> Double {
    guard let text = environment["HOIST_HELPER_TIMEOUT"] else { return 60 }
    guard let seconds = Double(text), (1...3600).contains(seconds) else {
      throw BadSetting(name: "HOIST_HELPER_TIMEOUT", value: text, expected: "a number of seconds from 1 to 3600")
    }
    return seconds
  }

  /// What a finished run gave: the exit status (128 + the signal for one killed by a signal) and the output.
  public struct Outcome: Sendable {
    public var status: Int32
    public var output: Data
  }

  /// Why a run gave no outcome.
  public enum Failure: Error, Equatable, CustomStringConvertible {
    case notFound
    case cannotStart(errno: Int32)
    case timedOut(seconds: Double)
    case outputTooLong

    public var description: String {
      switch self {
      case .notFound: "it is not installed (not found on PATH)"
      case .cannotStart(let code): "it cannot be started: \(String(cString: strerror(code)))"
      case .timedOut(let seconds): "it did not finish within \(Int(seconds)) s (HOIST_HELPER_TIMEOUT), and was stopped"
      case .outputTooLong: "it wrote more than \(HelperProcess.outputLimit) bytes"
      }
    }
  }

  /// Runs the program with `input` on its standard input and waits for it, at most `timeout` seconds.
  public func run(input: Data) throws(Failure) -> Outcome {
    let (inRead, inWrite) = try Self.pipe()
    let (outRead, outWrite): (Int32, Int32)
    do { (outRead, outWrite) = try Self.pipe() } catch {
      close(inRead)
      close(inWrite)
      throw error
    }
    let spawned = Result { () throws(Failure) in try spawn(stdin: inRead, stdout: outWrite) }
    close(inRead)
    close(outWrite)
    defer { close(outRead) }
    if case .failure = spawned { close(inWrite) }
    let pid = try spawned.get()
    Self.write(input, to: inWrite)
    close(inWrite)
    return try collect(pid: pid, output: outRead).get()
  }

  /// Writes what fits before the program stops reading; a program that exits early is no error here.
  private static func write(_ input: Data, to descriptor: Int32) {
    input.withUnsafeBytes { bytes in
      var offset = 0
      while offset < bytes.count, let base = bytes.baseAddress {
        let written = Glibc.write(descriptor, base + offset, bytes.count - offset)
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { break }
        offset += written
      }
    }
  }

  private func spawn(stdin: Int32, stdout: Int32) throws(Failure) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdin, 0)
    posix_spawn_file_actions_adddup2(&actions, stdout, 1)
    if mergeStandardError { posix_spawn_file_actions_adddup2(&actions, stdout, 2) }
    var argv = arguments.map { strdup($0) }
    argv.append(nil)
    defer { for argument in argv { free(argument) } }
    var pid = pid_t()
    let code = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
    guard code == 0 else { throw code == ENOENT ? .notFound : .cannotStart(errno: code) }
    return pid
  }

  /// Reads the output until the program has exited and its output is drained (or no more comes, when a
  /// child of its own keeps it open), or the time is up.
  private func collect(pid: pid_t, output: Int32) -> Result<Outcome, Failure> {
    let deadline = Date().addingTimeInterval(timeout)
    var (data, status, ended) = (Data(), Int32?.none, false)
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
      var readable = false
      if ended {
        usleep(10_000)
      } else {
        var poller = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
        readable = poll(&poller, 1, 50) > 0
      }
      if readable {
        let count = read(output, &buffer, buffer.count)
        if count > 0 {
          data.append(contentsOf: buffer[0..<count])
          if data.count > Self.outputLimit {
            return status == nil ? stop(pid, .outputTooLong) : .failure(.outputTooLong)
          }
        } else if count == 0 || errno != EINTR {
          ended = true
        }
      }
      if status == nil { status = waitStatus(pid, blocking: false) }
      if let status, ended || !readable || Date() >= deadline {
        // Exited and reaped: its number may be another process's now, so it is never killed.
        return .success(Outcome(status: status, output: data))
      }
      if Date() >= deadline { return stop(pid, .timedOut(seconds: timeout)) }
    }
  }

  /// Kills the program and every process it started that still runs, so none keeps hoist's output open.
  private func stop(_ pid: pid_t, _ failure: Failure) -> Result<Outcome, Failure> {
    for process in [pid] + Self.descendants(of: pid) { kill(process, SIGKILL) }
    _ = waitStatus(pid, blocking: true)
    return .failure(failure)
  }

  /// The processes below `pid`, from each process's parent in `/proc/PID/stat`.
  static func descendants(of pid: pid_t) -> [pid_t] {
    let numbers = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { pid_t($0) } ?? []
    var children = [pid_t: [pid_t]]()
    for process in numbers {
      guard let stat = try? String(contentsOfFile: "/proc/\(process)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
      else { continue }
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      if fields.count > 1, let parent = pid_t(fields[1]) { children[parent, default: []].append(process) }
    }
    var (found, queue) = ([pid_t](), children[pid] ?? [])
    while let next = queue.popLast(), found.count < 10_000 {
      found.append(next)
      queue += children[next] ?? []
    }
    return found
  }

  /// The program's exit status once it has exited; nil while it runs.
  private func waitStatus(_ pid: pid_t, blocking: Bool) -> Int32? {
    var raw: Int32 = 0
    while true {
      let result = waitpid(pid, &raw, blocking ? 0 : WNOHANG)
      if result == -1 && errno == EINTR { continue }
      guard result == pid else { return result == -1 ? 127 : nil }
      let signal = raw & 0x7F
      return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
    }
  }

  private static func pipe() throws(Failure) -> (Int32, Int32) {
    var ends: [Int32] = [0, 0]
    guard Glibc.pipe(&ends) == 0 else { throw .cannotStart(errno: errno) }
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    return (ends[0], ends[1])
  }
}
