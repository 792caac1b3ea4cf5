/// How many bytes each read and write of file data moves.
public enum IOSize {
  /// 256 KiB: a buffer that stays in a core's cache between being filled, hashed and written. Pulling the
  /// benchmark image took 0.42–0.53 s in 256 KiB writes, 0.69–0.73 s in 1 MiB ones (system time 0.25 s
  /// against 0.65 s); a docker archive with uncompressed layers 2.1–2.8 s against 2.8–3.0 s.
  public static let preferred = 256 << 10
}
