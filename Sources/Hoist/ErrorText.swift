import Foundation

/// An error's description on one line. Foundation's file errors, whose descriptions dump their whole user
/// info, become the path and what the system said about it.
public func oneLine(_ error: any Error) -> String {
  var text = String(describing: error)
  if let file = error as? CocoaError, let path = file.filePath ?? file.url?.path {
    let cause = (file.userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
    let posix = cause.flatMap { $0.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32($0.code))) : nil }
    text = "\(path): \(posix ?? cause?.localizedDescription ?? file.localizedDescription)"
  }
  return text.split(whereSeparator: \.isNewline).joined(separator: " ")
}
