import Hummingbird

/// Answers any request that the store failed (a read as much as a write) with the JSON
/// `503 store_unavailable` error, rather than a bare 500: the one place routes' store failures
/// are turned into an answer.
struct StoreErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Counts the failures (`botyard_store_errors_total`).
    var metrics: DispatcherMetrics

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as StoreError {
            metrics.storeFailed()
            throw APIError.storeUnavailable(error)
        }
    }
}
