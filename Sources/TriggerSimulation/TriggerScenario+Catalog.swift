extension TriggerScenario {
    /// The scenarios `botyard-sim` knows by name, in the order it prints them.
    public static let catalog: [TriggerScenario] = [
        uipathExample(oneByOne: true), uipathExample(oneByOne: false),
        slowClaims("slow-claim-one-by-one", oneByOne: true, itemsPerJob: 1),
        slowClaims("slow-claim-bulk", oneByOne: false, itemsPerJob: 1),
        slowClaims("slow-claim-per-10", oneByOne: true, itemsPerJob: 10),
        longTrickle, postponedBatch, busyJobsFreeFirst,
    ]

    public static func named(_ name: String) -> TriggerScenario? {
        catalog.first { $0.name == name }
    }

    /// Processing times in the catalog vary by ±20 %, so that jobs do not finish in lockstep.
    static let jitter = 0.2

    /// UiPath's example: minimum 31, maximum 3, a job per 10 items; 60 items added one every 10 s,
    /// or in one bulk add. The rest is ours: 5 robots, jobs start up in 30 s and take a minute an item.
    public static func uipathExample(oneByOne: Bool) -> TriggerScenario {
        TriggerScenario(
            name: oneByOne ? "uipath-one-by-one" : "uipath-bulk",
            summary: "min 31, max 3, per 10; 60 items " + (oneByOne ? "one every 10 s" : "in one bulk add")
                + "; 5 robots, 30 s start-up, 60 s ±20 % an item",
            robots: 5, jobStartupSeconds: 30,
            items: [oneByOne
                ? .oneByOne(60, every: 10, processingSeconds: 60, processingJitter: jitter)
                : .bulk(60, processingSeconds: 60, processingJitter: jitter)],
            trigger: trigger(min: 31, max: 3, per: 10))
    }

    /// UiPath's large case: 1,100 items, 200 robots, jobs slow to claim, minimum 1, maximum 200. The
    /// times are ours: a minute to start up, 30 s an item, the items added five a second (a dispatcher's
    /// loop) or in bulk.
    public static func slowClaims(_ name: String, oneByOne: Bool, itemsPerJob: Int) -> TriggerScenario {
        TriggerScenario(
            name: name,
            summary: "min 1, max 200, per \(itemsPerJob); 1,100 items "
                + (oneByOne ? "five a second" : "in one bulk add")
                + "; 200 robots, 60 s start-up, 30 s ±20 % an item",
            robots: 200, jobStartupSeconds: 60,
            items: [oneByOne
                ? .oneByOne(1_100, every: 0.2, processingSeconds: 30, processingJitter: jitter)
                : .bulk(1_100, processingSeconds: 30, processingJitter: jitter)],
            trigger: trigger(min: 1, max: 200, per: itemsPerJob))
    }

    /// Ours: long items in a steady trickle, faster than a job starts up. Counting running jobs holds new
    /// jobs back while every job is busy; counting only pending ones starts jobs for the same items again
    /// at every add while the earlier jobs are still starting up.
    public static let longTrickle = TriggerScenario(
        name: "long-trickle",
        summary: "min 1, max 20, per 5; 90 items one every 20 s; 20 robots, 2 min start-up, 5 min ±20 % an item",
        robots: 20, jobStartupSeconds: 120,
        items: [.oneByOne(90, every: 20, processingSeconds: 300, processingJitter: jitter)],
        trigger: trigger(min: 1, max: 20, per: 5))

    /// Ours: items added for later. UiPath looks at them at its next recheck, `exact` when they become ready.
    public static let postponedBatch = TriggerScenario(
        name: "postponed",
        summary: "min 1, max 10, per 10; 100 items in bulk, postponed 10 min; 10 robots, 1 min start-up, "
            + "1 min ±20 % an item",
        robots: 10, jobStartupSeconds: 60,
        items: [.bulk(100, postponedFor: 600, processingSeconds: 60, processingJitter: jitter)],
        trigger: trigger(min: 1, max: 10, per: 10))

    /// Ours, where `exact` over-schedules: a job busy with an item is not counted, yet often finishes it
    /// before a new job has started up, and takes the item the new job was started for.
    public static let busyJobsFreeFirst = TriggerScenario(
        name: "busy-jobs-free-first",
        summary: "min 1, max 10, per 1; 60 items one every 2 min; 10 robots, 1 min start-up, 10 min ±20 % an item",
        robots: 10, jobStartupSeconds: 60,
        items: [.oneByOne(60, every: 120, processingSeconds: 600, processingJitter: jitter)],
        trigger: trigger(min: 1, max: 10, per: 1))
}
