import Shared

/// Decides which of the jobs a worker holds may start: the worker's slots, each account's
/// concurrency limit, one UI bot per account, and marks (two runs with one mark never run on one
/// account at once). A state machine without locks or clocks, so that it can be tested alone.
///
/// Jobs that cannot start wait in arrival order. Whenever something changes, every waiting job
/// that can start is started, and when several priorities have one, a ``PriorityScheduler``
/// picks which goes first; after each call no waiting job could have started.
struct AdmissionLedger: Sendable {
    /// What a job asks for.
    struct Request: Sendable, Equatable {
        var account: String
        var priority: Priority
        var needsUI: Bool
        var marks: [String]

        init(account: String, priority: Priority, needsUI: Bool = false, marks: [String] = []) {
            self.account = account
            self.priority = priority
            self.needsUI = needsUI
            self.marks = marks
        }
    }

    /// Why a request cannot start now.
    enum Blocker: Equatable, Sendable, CustomStringConvertible {
        case workerFull(slots: Int)
        case accountAtLimit(account: String, limit: Int)
        case uiBotRunning(account: String)
        case markBusy(account: String, mark: String)
        case unknownAccount(String)

        var description: String {
            switch self {
            case .workerFull(let slots): "all \(slots) slots of the worker are in use"
            case .accountAtLimit(let account, let limit): "account \(account) is at its limit (\(limit) running)"
            case .uiBotRunning(let account): "a UI bot is already running on account \(account)"
            case .markBusy(let account, let mark): "a run with mark \(mark) is already running on account \(account)"
            case .unknownAccount(let account): "account \(account) is not served by this worker"
            }
        }
    }

    /// What runs on one account now.
    struct AccountLoad: Sendable, Equatable {
        var limit: Int
        var running = 0
        var uiRunning = false
        var marks: [String: Int] = [:]
    }

    let slots: Int
    private(set) var running = 0
    private(set) var accounts: [String: AccountLoad]
    private var waiting: [(id: Int, request: Request)] = []
    private var scheduler: PriorityScheduler

    init(slots: Int, accountLimits: [String: Int], reservedEvery: Int = 10) {
        self.slots = slots
        self.accounts = accountLimits.mapValues { AccountLoad(limit: $0) }
        self.scheduler = PriorityScheduler(reservedEvery: reservedEvery)
    }

    var waitingCount: Int { waiting.count }

    /// Why `request` could not start now; nil when it could.
    func blocker(for request: Request) -> Blocker? {
        guard let load = accounts[request.account] else { return .unknownAccount(request.account) }
        if running >= slots { return .workerFull(slots: slots) }
        if load.running >= load.limit { return .accountAtLimit(account: request.account, limit: load.limit) }
        if request.needsUI && load.uiRunning { return .uiBotRunning(account: request.account) }
        if let mark = request.marks.first(where: { load.marks[$0, default: 0] > 0 }) {
            return .markBusy(account: request.account, mark: mark)
        }
        return nil
    }

    /// Adds a request under `id`; returns the ids that start now (possibly `id` itself).
    mutating func enqueue(id: Int, _ request: Request) -> [Int] {
        waiting.append((id, request))
        return startEligible()
    }

    /// A started request has finished; returns the ids that start in its place.
    mutating func finish(_ request: Request) -> [Int] {
        running -= 1
        accounts[request.account]?.running -= 1
        if request.needsUI { accounts[request.account]?.uiRunning = false }
        for mark in request.marks {
            accounts[request.account]?.marks[mark, default: 1] -= 1
            if accounts[request.account]?.marks[mark] == 0 { accounts[request.account]?.marks[mark] = nil }
        }
        return startEligible()
    }

    /// Removes a request that is still waiting (its task was cancelled); false if it is not waiting.
    mutating func withdraw(id: Int) -> Bool {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return false }
        waiting.remove(at: index)
        return true
    }

    private mutating func startEligible() -> [Int] {
        var started: [Int] = []
        while true {
            let eligible = Set(waiting.filter { blocker(for: $0.request) == nil }.map(\.request.priority))
            // With a single candidate priority there is no choice to make, and no start to count
            // against the reserved share.
            let priority = eligible.count > 1 ? scheduler.next(waiting: eligible) : eligible.first
            guard let priority,
                  let index = waiting.firstIndex(where: {
                      $0.request.priority == priority && blocker(for: $0.request) == nil
                  })
            else { return started }
            let (id, request) = waiting.remove(at: index)
            start(request)
            started.append(id)
        }
    }

    private mutating func start(_ request: Request) {
        running += 1
        accounts[request.account]?.running += 1
        if request.needsUI { accounts[request.account]?.uiRunning = true }
        for mark in request.marks { accounts[request.account]?.marks[mark, default: 0] += 1 }
    }
}
