import Hummingbird
import Testing

@testable import Dispatcher

@Suite("Request log")
struct RequestLogTests {
    @Test("a request's log names the job it made, and nothing else as a job", arguments: [
        ("/v1/jobs/12", "12"), ("/v1/items/5", nil), ("/v1/pipeline-runs/3", nil), ("/v1/jobs/x", nil),
        ("/v1/jobs/", nil),
    ] as [(String, String?)])
    func jobOfLocation(location: String, job: String?) {
        #expect(RequestLogMiddleware<APIRequestContext>.jobID(location: location).map(String.init) == job)
    }
}
