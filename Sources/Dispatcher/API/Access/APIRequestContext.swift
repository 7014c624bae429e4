import Hummingbird

/// A request's context: Hummingbird's, and who sent the request once ``AccessControl`` checked
/// its token.
struct APIRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Nil on the open routes (health, the OpenAPI document) only.
    var caller: Caller?

    init(source: Source) {
        coreContext = .init(source: source)
    }
}
