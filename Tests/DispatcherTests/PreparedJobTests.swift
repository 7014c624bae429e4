import Foundation
import Shared
import Testing

@testable import Dispatcher

@Suite("A new job's prepared row")
struct PreparedJobTests {
    @Test("a job stored without an API token gets its own, a different one each; a job with one keeps it")
    func tokenGivenWhenStored() throws {
        let now = Date()
        let job = JobLifecycleTests.job(.pending)
        #expect(job.apiToken == nil)
        let first = try PreparedJob(job, at: now).record.apiToken
        let second = try PreparedJob(job, at: now).record.apiToken
        #expect(first != nil && second != nil && first != second)

        var requeued = job
        requeued.apiToken = "given"
        let prepared = try PreparedJob(requeued, at: now)
        #expect(prepared.record.apiToken == "given")
        let column = JobRecord.writtenColumns.firstIndex(of: "apiToken")!
        #expect(prepared.values[column] == "given".databaseValue)
    }
}
