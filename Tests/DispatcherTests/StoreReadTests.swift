import Foundation
import GRDB
import Testing

@testable import Dispatcher

@Suite("Store reads: blocking and async reads share the reader connections without starving each other")
struct StoreReadTests {
    /// What hung the dispatcher under load: every reader connection held by async reads that had
    /// finished but needed a thread of the cooperative pool to give their connection back, while
    /// every thread of that pool blocked in a synchronous read waiting for a connection.
    @Test("200 async and 200 blocking reads at once, more than there are connections and threads, all finish")
    func mixedReadsFinish() async throws {
        try await withTemporaryStore { store, _ in
            let finished = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<400 {
                    group.addTask {
                        if index.isMultiple(of: 2) {
                            return try await store.read("async read") { db in
                                try Int.fetchOne(db, sql: "SELECT 1 FROM (SELECT count(*) FROM jobs)")!
                            }
                        }
                        return try Self.blockingRead(store)
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(finished == 400)
        }
    }

    /// A synchronous read on a thread of the cooperative pool, as request handlers made them
    /// before every read of the store went through ``BotyardStore/read(_:_:)``.
    static func blockingRead(_ store: BotyardStore) throws -> Int {
        try store.database.read { db in
            try Int.fetchOne(db, sql: "SELECT 1 FROM (SELECT count(*) FROM jobs)")!
        }
    }
}
