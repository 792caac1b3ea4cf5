import Foundation
import Hoist

/// Prints a JSON value as `JSONText.pretty` writes it.
func printJSON(_ value: Any) {
  print(JSONText.pretty(value))
}

/// Re-indents JSON for reading (keys sorted); bytes that are not JSON are an error.
func prettyJSON(_ data: Data) throws -> String {
  JSONText.pretty(try JSONSerialization.jsonObject(with: data))
}
