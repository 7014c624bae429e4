import Foundation
import Hummingbird
import Shared

/// `/v1/queues`: work queues, adding and listing their items, and claims.
struct WorkQueueRoutes {
    let store: BotyardStore
    /// Wakes the lease keeper when a claim's lease runs out before its next pass.
    let leaseAlarm: LeaseAlarm
    /// Wake the robot queue (added items may make the queue's trigger store launches) and the
    /// trigger keeper (a postponed item may become ready before it wakes).
    let robotQueueSignal: WakeSignal
    let triggerSignal: WakeSignal

    /// A bulk add may carry thousands of items.
    static let maximumBulkBytes = 32 * 1024 * 1024

    func register(on routes: APIRoutes) {
        routes.admin.post("queues", use: create)
        routes.viewer.get("queues", use: list)
        routes.viewer.get("queues/:name", use: show)
        routes.admin.put("queues/:name", use: replace)
        routes.admin.delete("queues/:name", use: delete)
        routes.operator.post("queues/:name/items", use: addItem)
        routes.operator.post("queues/:name/items/bulk", use: addItems)
        routes.viewer.get("queues/:name/items", use: listItems)
        routes.operator.post("queues/:name/claim", use: claim)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let definition = try await validated(request, name: nil)
        guard try await store.saveQueue(definition, replace: false) == .created else {
            throw APIError(status: .conflict, code: "already_exists",
                           message: "a queue named '\(definition.name)' exists; PUT replaces it")
        }
        return try created(definition)
    }

    @Sendable func replace(_ request: Request, context: APIRequestContext) async throws -> Response {
        let definition = try await validated(request, name: try context.parameters.require("name"))
        if try await store.saveQueue(definition, replace: true) == .created { return try created(definition) }
        return try JSONResponse.make(definition)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONResponse.make(try await store.queues())
    }

    /// The queue's definition with its items counted by state.
    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard let definition = try await store.queue(named: name) else { throw notFound(name) }
        let counts = try await store.itemCounts(in: name).counts
        return try JSONResponse.make(WorkQueueView(definition: definition, counts: counts))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard try await store.deleteQueue(named: name) else { throw notFound(name) }
        return Response(status: .noContent)
    }

    /// One item → 201 with it; a payload over its limit is 413, a reference already used in a
    /// queue of unique references 409.
    @Sendable func addItem(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        let item = try await JSONResponse.decode(AddItemRequest.self, from: request)
        if item.payload.text.utf8.count > AddItemRequest.maximumPayloadBytes {
            throw APIError.payloadTooLarge(limit: AddItemRequest.maximumPayloadBytes)
        }
        switch try await store.addItems([item], to: name) {
        case .added(let items):
            itemsAdded()
            var response = try JSONResponse.make(items[0], status: .created)
            response.headers[.location] = "/v1/items/\(items[0].id)"
            return response
        case .noQueue:
            throw notFound(name)
        case .refused(let problems) where problems.allSatisfy(\.isDuplicateReference):
            throw APIError(status: .conflict, code: "duplicate_reference",
                           message: problems.map(\.message).joined(separator: "; "))
        case .refused(let problems):
            throw APIError.invalid(problems.map(\.message))
        }
    }

    /// Many items, in one transaction: 201 with them all, or 422 naming every bad item and adding none.
    @Sendable func addItems(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        let bulk = try await JSONResponse.decode(BulkAddItemsRequest.self, from: request, limit: Self.maximumBulkBytes)
        guard (1...BulkAddItemsRequest.maximumItems).contains(bulk.items.count) else {
            throw APIError.invalid(["a bulk add takes 1 to \(BulkAddItemsRequest.maximumItems) items"])
        }
        switch try await store.addItems(bulk.items, to: name) {
        case .added(let items):
            itemsAdded()
            return try JSONResponse.make(BulkItemsAdded(ids: items.map(\.id)), status: .created)
        case .noQueue:
            throw notFound(name)
        case .refused(let problems):
            throw APIError(status: .unprocessableContent, code: "invalid_items",
                           message: problems.map(\.description).joined(separator: "; "))
        }
    }

    @Sendable func listItems(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        let query = request.uri.queryParameters
        var state: WorkItemState?
        if let text = query["state"] {
            guard let parsed = WorkItemState(rawValue: String(text)) else {
                throw APIError.invalid(["state must be one of \(WorkItemState.allCases.map(\.rawValue).joined(separator: ", "))"])
            }
            state = parsed
        }
        let limit = try Self.number(query["limit"], name: "limit", in: 1...1000) ?? 100
        let offset = try Self.number(query["offset"], name: "offset", in: 0...Int.max) ?? 0
        guard try await store.queue(named: name) != nil else { throw notFound(name) }
        return try JSONResponse.make(try await store.items(in: name, state: state, limit: limit, offset: offset))
    }

    /// The next item under a lease (200 with the item, its token and expiry), or 204 when none is ready.
    @Sendable func claim(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        let body = try await request.body.collect(upTo: JSONResponse.maximumBodyBytes)
        let claim = body.readableBytes == 0 ? ClaimItemRequest()
            : try JSONResponse.decodeBody(ClaimItemRequest.self, from: body)
        var jobID = claim.jobID
        if let caller = context.caller?.jobID {
            if let named = claim.jobID, named != caller {
                throw APIError(status: .forbidden, code: "job_mismatch",
                               message: "the token belongs to job \(caller), not job \(named)")
            }
            jobID = caller
        }
        switch try await store.claimItem(from: name, jobID: jobID) {
        case .claimed(let item):
            leaseAlarm.leaseGiven(until: item.leaseExpiresAt)
            return try JSONResponse.make(item)
        case .empty:
            return Response(status: .noContent)
        case .noQueue:
            throw notFound(name)
        }
    }

    /// Added items evaluated the queue's trigger, which may have stored jobs.
    private func itemsAdded() {
        robotQueueSignal.notify()
        triggerSignal.notify()
    }

    private func validated(_ request: Request, name: String?) async throws -> WorkQueueDefinition {
        let definition = try await JSONResponse.decode(WorkQueueDefinition.self, from: request)
        var problems = definition.problems
        if let name, definition.name != name {
            problems.insert("the name in the body ('\(definition.name.prefix(64))') differs from the path's", at: 0)
        }
        guard problems.isEmpty else { throw APIError.invalid(problems) }
        return definition
    }

    private func created(_ definition: WorkQueueDefinition) throws -> Response {
        var response = try JSONResponse.make(definition, status: .created)
        response.headers[.location] = "/v1/queues/\(definition.name)"
        return response
    }

    private func notFound(_ name: String) -> APIError { APIError.notFound("queue '\(name.prefix(64))'") }

    static func number(_ text: Substring?, name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.invalid(["\(name) must be a number from \(range.lowerBound)"
                + (range.upperBound == Int.max ? " up" : " to \(range.upperBound)")])
        }
        return value
    }
}

/// `GET /v1/queues/{name}`.
struct WorkQueueView: Codable, Sendable {
    var definition: WorkQueueDefinition
    var counts: [String: Int]
}

/// `201` answer to a bulk add.
struct BulkItemsAdded: Codable, Sendable {
    var ids: [Int64]
}
