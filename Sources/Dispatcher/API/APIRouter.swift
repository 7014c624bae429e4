import Hummingbird
import Shared

/// The dispatcher's HTTP API, kept apart from the server so that tests can call it directly.
///
/// Every route but health, the OpenAPI document and the web console's files needs an API token
/// (or a running job's); the group a route is registered on (``APIRoutes``) says which role it needs.
func buildRouter(store: BotyardStore, robotQueueSignal: WakeSignal,
                 leaseAlarm: LeaseAlarm = LeaseAlarm(),
                 triggerSignal: WakeSignal = WakeSignal(),
                 scheduleSignal: WakeSignal = WakeSignal(),
                 metrics: DispatcherMetrics = DispatcherMetrics()) -> Router<APIRequestContext> {
    let router = Router(context: APIRequestContext.self)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: StoreErrorMiddleware(metrics: metrics))
    let authenticator = TokenAuthenticator(store: store)
    let access = AccessPolicy(authenticator: authenticator, audit: AuditRecorder(store: store, metrics: metrics))
    let routes = APIRoutes(router: router, access: access, store: store)
    router.group("metrics").add(middleware: access.control(.viewer))
        .add(middleware: CurrentReadsMiddleware(store: store)).get { _, _ in
        let text = try await metrics.scrape(store)
        var response = Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        response.headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return response
    }
    router.get("v1/health") { _, _ in
        try JSONResponse.make(["status": "ok"])
    }
    router.get("v1/openapi.json") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_json)))
    }
    ConsoleRoutes().register(on: router)
    routes.viewer.get("stats") { _, _ in
        let counts = try await store.jobCounts()
        return try JSONResponse.make(DispatcherStats(
            jobs: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }),
            outbox: try await store.outboxCount()))
    }
    routes.viewer.get("workers") { _, _ in
        try JSONResponse.make(try await store.workers())
    }
    AccessRoutes(store: store, authenticator: authenticator).register(on: routes)
    BotRoutes(store: store).register(on: routes)
    JobRoutes(store: store, robotQueueSignal: robotQueueSignal, metrics: metrics)
        .register(on: routes)
    DeadJobRoutes(store: store).register(on: routes)
    GroupRoutes(store: store).register(on: routes)
    RobotQueueRoutes(store: store, robotQueueSignal: robotQueueSignal).register(on: routes)
    AccountRoutes(store: store).register(on: routes)
    WorkQueueRoutes(store: store, leaseAlarm: leaseAlarm, robotQueueSignal: robotQueueSignal,
                    triggerSignal: triggerSignal).register(on: routes)
    WorkItemRoutes(store: store).register(on: routes)
    QueueTriggerRoutes(store: store, robotQueueSignal: robotQueueSignal,
                       triggerSignal: triggerSignal).register(on: routes)
    ScheduleRoutes(store: store, scheduleSignal: scheduleSignal).register(on: routes)
    CalendarRoutes(store: store, scheduleSignal: scheduleSignal).register(on: routes)
    FlowRoutes<PipelineDefinition>(store: store, robotQueueSignal: robotQueueSignal)
        .register(on: routes)
    FlowRoutes<WorkflowDefinition>(store: store, robotQueueSignal: robotQueueSignal)
        .register(on: routes)
    return router
}
