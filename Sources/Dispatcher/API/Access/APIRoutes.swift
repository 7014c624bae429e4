import Hummingbird
import Shared

/// The API's routes under `/v1`, by the least role each needs: a route's role is the group it
/// is registered on, and the OpenAPI document states the same (`x-botyard-role`, held to it by a test).
struct APIRoutes {
    /// Reads, which see every deferred write (``CurrentReadsMiddleware``).
    let viewer: RouterGroup<APIRequestContext>
    /// Runs: submissions, cancels, pauses, requeues, runs, work items.
    let `operator`: RouterGroup<APIRequestContext>
    /// Definitions, credentials, tokens, the audit log.
    let admin: RouterGroup<APIRequestContext>

    init(router: Router<APIRequestContext>, access: AccessPolicy, store: BotyardStore) {
        viewer = router.group("v1").add(middleware: access.control(.viewer))
            .add(middleware: CurrentReadsMiddleware(store: store))
        `operator` = router.group("v1").add(middleware: access.control(.operator))
        admin = router.group("v1").add(middleware: access.control(.admin))
    }
}

/// What every route's ``AccessControl`` shares: the token check and the audit log.
struct AccessPolicy: Sendable {
    var authenticator: TokenAuthenticator
    var audit: AuditRecorder

    func control(_ required: Role) -> AccessControl {
        AccessControl(required: required, authenticator: authenticator, audit: audit)
    }
}
