import Hummingbird
import Shared

/// The dispatcher's HTTP API, kept apart from the server so that tests can call it directly.
func buildRouter(store: BotyardStore, relaySignal: WakeSignal, robotQueueSignal: WakeSignal,
                 leaseAlarm: LeaseAlarm = LeaseAlarm(),
                 triggerSignal: WakeSignal = WakeSignal(),
                 scheduleSignal: WakeSignal = WakeSignal(),
                 metrics: DispatcherMetrics = DispatcherMetrics()) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: StoreErrorMiddleware(metrics: metrics))
    router.get("metrics") { _, _ in
        let text = try metrics.scrape(store)
        var response = Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        response.headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return response
    }
    router.get("v1/health") { _, _ in
        try JSONResponse.make(["status": "ok"])
    }
    router.get("v1/stats") { _, _ in
        let counts = try store.jobCounts()
        return try JSONResponse.make(DispatcherStats(
            jobs: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }),
            outbox: try store.outboxCount()))
    }
    router.get("v1/workers") { _, _ in
        try JSONResponse.make(try store.workers())
    }
    let v1 = router.group("v1")
    BotRoutes(store: store).register(on: v1)
    JobRoutes(store: store, relaySignal: relaySignal, robotQueueSignal: robotQueueSignal, metrics: metrics)
        .register(on: v1)
    DeadJobRoutes(store: store, relaySignal: relaySignal).register(on: v1)
    GroupRoutes(store: store).register(on: v1)
    RobotQueueRoutes(store: store, robotQueueSignal: robotQueueSignal).register(on: v1)
    AccountRoutes(store: store, relaySignal: relaySignal).register(on: v1)
    WorkQueueRoutes(store: store, leaseAlarm: leaseAlarm, relaySignal: relaySignal, robotQueueSignal: robotQueueSignal,
                    triggerSignal: triggerSignal).register(on: v1)
    WorkItemRoutes(store: store, relaySignal: relaySignal).register(on: v1)
    QueueTriggerRoutes(store: store, relaySignal: relaySignal, robotQueueSignal: robotQueueSignal,
                       triggerSignal: triggerSignal).register(on: v1)
    ScheduleRoutes(store: store, scheduleSignal: scheduleSignal).register(on: v1)
    CalendarRoutes(store: store, scheduleSignal: scheduleSignal).register(on: v1)
    FlowRoutes<PipelineDefinition>(store: store, relaySignal: relaySignal, robotQueueSignal: robotQueueSignal)
        .register(on: v1)
    FlowRoutes<WorkflowDefinition>(store: store, relaySignal: relaySignal, robotQueueSignal: robotQueueSignal)
        .register(on: v1)
    return router
}
