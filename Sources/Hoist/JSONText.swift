import Foundation

/// JSON as jq prints it, for output people and scripts read: two-space indents, `"key": value`, keys
/// sorted, `/` unescaped, UTF-8 as it is. Foundation's pretty printer writes `"key" : value`.
public enum JSONText {
  /// Renders a value made of dictionaries, arrays, strings, numbers, booleans and nulls.
  public static func pretty(_ value: Any) -> String {
    var out = ""
    write(value, indent: "", to: &out)
    return out
  }

  /// An `Encodable` value, rendered as `pretty` renders the value it encodes to.
  public static func pretty<Value: Encodable>(encoding value: Value) throws -> String {
    pretty(try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)))
  }

  private static func write(_ value: Any, indent: String, to out: inout String) {
    let inner = indent + "  "
    switch value {
    case let dictionary as [String: Any]:
      guard !dictionary.isEmpty else {
        out += "{}"
        return
      }
      out += "{\n"
      for (n, key) in dictionary.keys.sorted().enumerated() {
        out += inner + quoted(key) + ": "
        write(dictionary[key]!, indent: inner, to: &out)
        out += n == dictionary.count - 1 ? "\n" : ",\n"
      }
      out += indent + "}"
    case let array as [Any]:
      guard !array.isEmpty else {
        out += "[]"
        return
      }
      out += "[\n"
      for (n, element) in array.enumerated() {
        out += inner
        write(element, indent: inner, to: &out)
        out += n == array.count - 1 ? "\n" : ",\n"
      }
      out += indent + "]"
    case let text as String: out += quoted(text)
    case let flag as Bool where type(of: value) == Bool.self: out += flag ? "true" : "false"
    case let number as NSNumber: out += scalar(number)
    case is NSNull: out += "null"
    default: out += quoted(String(describing: value))
    }
  }

  /// A number as JSON; Foundation hands JSON booleans over as NSNumbers of type `c`.
  private static func scalar(_ number: NSNumber) -> String {
    switch String(cString: number.objCType) {
    case "c", "B": return number.boolValue ? "true" : "false"
    case "d", "f":
      let double = number.doubleValue
      return double == double.rounded() && abs(double) < 1e15 ? String(Int64(double)) : String(double)
    default: return number.stringValue
    }
  }

  private static func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case let control where control.value < 0x20: out += String(format: "\\u%04x", control.value)
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}
