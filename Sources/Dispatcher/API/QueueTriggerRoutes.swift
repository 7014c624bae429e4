import Hummingbird
import Shared

/// `/v1/queues/{name}/trigger` and `/v1/queue-triggers`: a work queue's trigger, with its last evaluation.
struct QueueTriggerRoutes {
    let store: BotyardStore
    /// Wakes the robot queue: a trigger with an account starts targeted launches.
    let robotQueueSignal: WakeSignal
    /// Wakes the trigger keeper: a saved trigger has a new recheck time.
    let triggerSignal: WakeSignal

    func register(on routes: APIRoutes) {
        routes.viewer.get("queue-triggers", use: list)
        routes.admin.put("queues/:name/trigger", use: save)
        routes.viewer.get("queues/:name/trigger", use: show)
        routes.admin.delete("queues/:name/trigger", use: delete)
    }

    /// Creates (201) or replaces (200) the queue's trigger and evaluates it at once; the answer
    /// carries that evaluation. 404 without the queue, 422 for an unknown bot or bad settings.
    @Sendable func save(_ request: Request, context: APIRequestContext) async throws -> Response {
        let queue = try context.parameters.require("name")
        var definition = try await JSONResponse.decode(QueueTriggerDefinition.self, from: request)
        var problems: [String] = []
        if definition.queue.isEmpty {
            definition.queue = queue
        } else if definition.queue != queue {
            problems.append("the queue in the body ('\(definition.queue.prefix(64))') differs from the path's")
        }
        problems += definition.problems
        guard problems.isEmpty else { throw APIError.invalid(problems) }
        switch try await store.saveTrigger(definition) {
        case .saved(let trigger, let created):
            robotQueueSignal.notify()
            triggerSignal.notify()
            var response = try JSONResponse.make(trigger, status: created ? .created : .ok)
            if created { response.headers[.location] = "/v1/queues/\(queue)/trigger" }
            return response
        case .noQueue:
            throw APIError.notFound("queue '\(queue.prefix(64))'")
        case .unknownBot:
            throw APIError.unknownBot(definition.bot)
        }
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let queue = try context.parameters.require("name")
        guard let trigger = try await store.trigger(ofQueue: queue) else { throw notFound(queue) }
        return try JSONResponse.make(trigger)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONResponse.make(try await store.triggers())
    }

    /// Removes the trigger; the jobs it started run on.
    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let queue = try context.parameters.require("name")
        guard try await store.deleteTrigger(ofQueue: queue) else { throw notFound(queue) }
        return Response(status: .noContent)
    }

    private func notFound(_ queue: String) -> APIError { APIError.notFound("a trigger of queue '\(queue.prefix(64))'") }
}
