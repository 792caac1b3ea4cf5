/// Where the copy being made stands among the copies of its run, for destinations that list what they
/// took (a layout's `index.json`, a docker archive's `manifest.json`): images copied at once are listed in
/// the order they were given, not the order they finished.
public enum CopyOrder {
  @TaskLocal public static var position = 0
}
