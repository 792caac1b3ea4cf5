import Foundation
import Testing

@testable import OCI

@Suite struct ConfigEditTests {
  let config = Data(
    #"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin","TZ=GMT"],"Labels":{"a":"1"}},"history":[{"created":"2020-01-01T00:00:00Z","created_by":"x"}],"rootfs":{"type":"layers","diff_ids":[]},"x-unknown":{"kept":true}}"#
      .utf8)

  @Test func changesWhatIsNamedAndKeepsTheRest() throws {
    var edit = ConfigEdit()
    edit.labels = ["b": "2"]
    edit.environment = ["TZ=UTC", "NEW=1"]
    edit.entrypoint = ["/app/run"]
    edit.user = "1000"
    edit.exposedPorts = ["80/tcp"]
    edit.created = "2024-01-01T00:00:00Z"
    let edited = try JSONSerialization.jsonObject(with: edit.apply(to: config, what: "config")) as! [String: Any]
    let runtime = edited["config"] as! [String: Any]
    #expect(runtime["Env"] as? [String] == ["PATH=/bin", "TZ=UTC", "NEW=1"])
    #expect(runtime["Labels"] as? [String: String] == ["a": "1", "b": "2"])
    #expect(runtime["Entrypoint"] as? [String] == ["/app/run"])
    #expect(runtime["User"] as? String == "1000")
    #expect((runtime["ExposedPorts"] as? [String: Any])?.keys.sorted() == ["80/tcp"])
    #expect(edited["created"] as? String == "2024-01-01T00:00:00Z")
    #expect((edited["history"] as? [[String: Any]])?.first?["created"] as? String == "2024-01-01T00:00:00Z")
    #expect((edited["x-unknown"] as? [String: Bool]) == ["kept": true])
  }

  @Test func theSameEditGivesTheSameBytes() throws {
    var edit = ConfigEdit()
    edit.labels = ["z": "1", "a": "2"]
    #expect(try edit.apply(to: config, what: "c") == (try edit.apply(to: config, what: "c")))
    #expect(ConfigEdit().isEmpty)
  }
}
