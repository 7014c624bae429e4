import Hummingbird

/// Commits the store's deferred writes (a run's start, the broker's confirm of a job's message, a
/// job's end from which nothing follows) before a read is answered, so that an API client never
/// sees less than the dispatcher knows: those writes wait up to the store's wait for a transaction
/// to ride in. Usually none waits, and the read goes on at once.
struct CurrentReadsMiddleware<Context: RequestContext>: RouterMiddleware {
    var store: BotyardStore

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        await store.commitDeferredWritesIfAny()
        return try await next(request, context)
    }
}
