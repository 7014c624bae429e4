import Foundation
import Hummingbird
import Shared

/// `/v1/items/{id}`: an item with its history, and what a bot that holds it under a lease does.
struct WorkItemRoutes {
    let store: BotyardStore

    func register(on routes: APIRoutes) {
        routes.viewer.get("items/:id", use: show)
        routes.operator.post("items/:id/extend") { try await settle(.extend, $0, $1) }
        routes.operator.post("items/:id/complete") { try await settle(.complete, $0, $1) }
        routes.operator.post("items/:id/fail") { try await settle(.fail, $0, $1) }
    }

    enum Action { case extend, complete, fail }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try Self.itemID(context)
        guard let item = try await store.item(id: id) else { throw APIError.notFound("item \(id)") }
        return try JSONResponse.make(item)
    }

    /// 200 with the item; 409 with `lease_expired`, `lease_superseded` or `item_settled` when the
    /// token no longer holds it (nothing changed).
    func settle(_ action: Action, _ request: Request, _ context: APIRequestContext) async throws -> Response {
        let id = try Self.itemID(context)
        let body = try await JSONResponse.decode(SettleItemRequest.self, from: request)
        let settlement: ItemSettlement
        switch action {
        case .extend:
            settlement = .extend
        case .complete:
            if let output = body.output, output.text.utf8.count > AddItemRequest.maximumPayloadBytes {
                throw APIError.payloadTooLarge(limit: AddItemRequest.maximumPayloadBytes)
            }
            settlement = .complete(output: body.output)
        case .fail:
            guard let kind = body.failureKind, let reason = body.reason, !reason.isEmpty, reason.count <= 1024 else {
                throw APIError.invalid(["a failure needs failureKind (business or system) and a reason of 1-1024 characters"])
            }
            settlement = .fail(kind, reason: reason)
        }
        switch try await store.settleItem(id, token: body.leaseToken, settlement,
                                    byJob: context.caller?.jobID) {
        case .done(let item):
            return try JSONResponse.make(item)
        case .notFound:
            throw APIError.notFound("item \(id)")
        case .refused(let code, let message):
            throw APIError(status: code == "not_your_item" ? .forbidden : .conflict, code: code,
                           message: "item \(id): \(message)")
        }
    }

    static func itemID(_ context: APIRequestContext) throws -> Int64 {
        let text = try context.parameters.require("id")
        guard let id = Int64(text), id > 0 else { throw APIError.invalid(["item id must be a positive number"]) }
        return id
    }
}
