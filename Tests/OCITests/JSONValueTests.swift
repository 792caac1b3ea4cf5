import Foundation
import Testing

@testable import OCI

@Suite struct JSONValueTests {
  @Test func readsEveryKindOfValueAndWritesItBack() throws {
    let text =
      #"{"a":1,"b":true,"c":0,"d":false,"e":1.5,"f":null,"g":[1,"x",{"h":[]}],"i":"/path","j":-9007199254740991}"#
    let value = try #require(JSONValue.read(Data(text.utf8)))
    #expect(value["a"] == .number(1) && value["b"] == .bool(true) && value["c"] == .number(0))
    #expect(value["d"] == .bool(false) && value["e"] == .number(1.5) && value["f"] == .null)
    #expect(value["g"]?.array?.count == 3 && value["i"]?.string == "/path")
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    #expect(String(decoding: try encoder.encode(value), as: UTF8.self) == text)
  }

  @Test func whatIsNotJSONReadsAsNothing() {
    #expect(JSONValue.read(Data("{".utf8)) == nil)
    #expect(JSONValue.read(Data("not json".utf8)) == nil)
    #expect(JSONValue.read(Data("[]".utf8))?.object == nil)
  }

  @Test func wholeNumbersOnly() {
    #expect(JSONValue.number(3).wholeNumber == 3)
    #expect(JSONValue.number(3.5).wholeNumber == nil)
    #expect(JSONValue.string("3").wholeNumber == nil)
  }
}
