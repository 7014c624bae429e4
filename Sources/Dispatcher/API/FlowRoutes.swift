import Foundation
import Hummingbird
import Shared

/// `/v1/pipelines` and `/v1/workflows` (one instance each): definitions, their runs, and
/// `/v1/pipeline-runs/{id}` or `/v1/workflow-runs/{id}` to read, pause, resume and cancel a run.
struct FlowRoutes<Definition: FlowDefinition> {
    let store: BotyardStore
    /// Wakes the robot queue: a cancelled run frees accounts.
    let robotQueueSignal: WakeSignal

    private var kind: FlowKind { Definition.kind }

    func register(on routes: APIRoutes) {
        let collection = kind.plural
        routes.admin.post(RouterPath(collection), use: create)
        routes.viewer.get(RouterPath(collection), use: list)
        routes.viewer.get(RouterPath("\(collection)/:name"), use: show)
        routes.admin.put(RouterPath("\(collection)/:name"), use: replace)
        routes.admin.delete(RouterPath("\(collection)/:name"), use: delete)
        routes.operator.post(RouterPath("\(collection)/:name/runs"), use: startRun)
        routes.viewer.get(RouterPath("\(collection)/:name/runs"), use: listRuns)
        routes.viewer.get(RouterPath("\(kind.rawValue)-runs/:id"), use: showRun)
        for command in FlowCommand.allCases {
            routes.operator.post(RouterPath("\(kind.rawValue)-runs/:id/\(command.rawValue)")) { request, context in
                try await control(command, request: request, context: context)
            }
        }
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let definition = try await validated(request, name: nil)
        guard try await store.saveFlow(definition, replace: false) == .created else {
            throw APIError(status: .conflict, code: "already_exists",
                           message: "a \(kind.rawValue) named '\(definition.name)' exists; PUT replaces it")
        }
        return try created(definition)
    }

    @Sendable func replace(_ request: Request, context: APIRequestContext) async throws -> Response {
        let definition = try await validated(request, name: try context.parameters.require("name"))
        if try await store.saveFlow(definition, replace: true) == .created { return try created(definition) }
        return try JSONResponse.make(definition)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONResponse.make(try await store.flowDefinitions(Definition.self))
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await JSONResponse.make(try definition(named: try context.parameters.require("name")))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard try await store.deleteFlow(kind: kind, name: name) else { throw notFound(name) }
        return Response(status: .noContent)
    }

    @Sendable func startRun(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: JSONResponse.maximumBodyBytes)
        } catch {
            throw APIError.payloadTooLarge(limit: JSONResponse.maximumBodyBytes)
        }
        let start = body.readableBytes == 0 ? StartFlowRunRequest()
            : try JSONResponse.decodeBody(StartFlowRunRequest.self, from: body)
        if let initiator = start.initiator, initiator.isEmpty || initiator.count > 128 {
            throw APIError.invalid(["initiator must have 1-128 characters"])
        }
        guard let run = try await store.startRun(of: kind, named: name, initiator: start.initiator ?? "api") else {
            throw notFound(name)
        }
        var response = try JSONResponse.make(FlowRunCreated(id: run.id, state: run.state), status: .created)
        response.headers[.location] = "/v1/\(kind.rawValue)-runs/\(run.id)"
        return response
    }

    @Sendable func listRuns(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        let runs = try await store.runs(kind, named: name)
        if runs.isEmpty { _ = try await definition(named: name) }
        return try JSONResponse.make(runs)
    }

    @Sendable func showRun(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try runID(context)
        guard let run = try await store.run(kind, id: id) else { throw APIError.notFound("\(kind.rawValue) run \(id)") }
        return try JSONResponse.make(run)
    }

    func control(_ command: FlowCommand, request: Request, context: APIRequestContext) async throws -> Response {
        let id = try runID(context)
        switch try await store.control(kind, runID: id, command) {
        case .done(let run):
            if command == .cancel { robotQueueSignal.notify() }
            return try JSONResponse.make(run)
        case .notFound:
            throw APIError.notFound("\(kind.rawValue) run \(id)")
        case .refused(let code, let message):
            throw APIError(status: .conflict, code: code, message: "\(kind.rawValue) run \(id): \(message)")
        }
    }

    /// The body as a definition whose every problem (unknown bots, a name other than the path's)
    /// is named in one 422.
    private func validated(_ request: Request, name: String?) async throws -> Definition {
        let definition = try await JSONResponse.decode(Definition.self, from: request)
        let bots = Set(try await store.bots().map(\.name))
        var problems = definition.problems(botExists: bots.contains)
        if let name, definition.name != name {
            problems.insert("the name in the body ('\(definition.name.prefix(64))') differs from the path's", at: 0)
        }
        guard problems.isEmpty else {
            throw APIError(status: .unprocessableContent, code: "invalid_\(kind.rawValue)",
                           message: problems.joined(separator: "; "))
        }
        return definition
    }

    private func created(_ definition: Definition) throws -> Response {
        var response = try JSONResponse.make(definition, status: .created)
        response.headers[.location] = "/v1/\(kind.plural)/\(definition.name)"
        return response
    }

    private func definition(named name: String) async throws -> Definition {
        guard let definition = try await store.flowDefinition(Definition.self, named: name) else {
            throw notFound(name)
        }
        return definition
    }

    private func notFound(_ name: String) -> APIError {
        APIError.notFound("\(kind.rawValue) '\(name.prefix(64))'")
    }

    private func runID(_ context: APIRequestContext) throws -> Int64 {
        let text = try context.parameters.require("id")
        guard let id = Int64(text), id > 0 else { throw APIError.invalid(["run id must be a positive number"]) }
        return id
    }
}
