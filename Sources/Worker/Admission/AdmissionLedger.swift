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
        /// The account runs its cleanup command, or is held after one failed.
        case accountHeld(account: String)

        var description: String {
            switch self {
            case .workerFull(let slots): "all \(slots) slots of the worker are in use"
            case .accountAtLimit(let account, let limit): "account \(account) is at its limit (\(limit) running)"
            case .uiBotRunning(let account): "a UI bot is already running on account \(account)"
            case .markBusy(let account, let mark): "a run with mark \(mark) is already running on account \(account)"
            case .unknownAccount(let account): "account \(account) is not served by this worker"
            case .accountHeld(let account): "account \(account) is held (cleanup running or failed)"
            }
        }
    }

    /// What runs on one account now.
    struct AccountLoad: Sendable, Equatable {
        var limit: Int
        var running = 0
        var uiRunning = false
        var marks: [String: Int] = [:]
        /// Runs that ended owing the account a cleanup that has not ended yet: nothing starts there
        /// meanwhile. Each still holds its slot (counted in `running`) until its cleanup has run.
        var cleanupsOwed = 0
        /// A cleanup command runs on the account now (one at a time).
        var cleaning = false

        /// Runs whose bot may still be running: those that owe no cleanup.
        var othersRunning: Int { running - cleanupsOwed }
        /// The account is held (a cleanup failed) until an operator clears it.
        var hold: Hold?
    }

    /// How a held account treats jobs.
    enum Hold: Sendable, Equatable {
        /// Its jobs wait: the account's consumers still run, and a job handed back now would come
        /// straight back to them.
        case waiting
        /// Its consumers are cancelled: waiting jobs and newcomers are handed back to their queues.
        case handingBack
    }

    let slots: Int
    private(set) var running = 0
    private(set) var accounts: [String: AccountLoad]
    private var waiting: [(id: Int, request: Request)] = []
    /// Cleanups waiting for their turn, in arrival order.
    private var waitingCleanups: [(id: Int, account: String)] = []
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
        if load.cleanupsOwed > 0 || load.cleaning || load.hold != nil {
            return .accountHeld(account: request.account)
        }
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

    /// Whether a request must be handed back at once instead of waiting: its account is held and no
    /// longer consumes.
    func refuses(_ request: Request) -> Bool {
        accounts[request.account]?.hold == .handingBack
    }

    /// A started run has ended owing `account` its cleanup: nothing new starts there from now on, until
    /// that cleanup has ended (``endCleanup(account:)``). Called before the run's slot is released.
    mutating func oweCleanup(account: String) {
        accounts[account]?.cleanupsOwed += 1
    }

    /// The cleanup owed on `account` asks for its turn under `id`; returns the ids that start now (jobs or
    /// cleanups, possibly `id` itself). A cleanup starts once the account runs nothing but runs that owe
    /// cleanups, and no other cleanup: it may reset the account's desktop under no running bot.
    mutating func enqueueCleanup(id: Int, account: String) -> [Int] {
        waitingCleanups.append((id, account))
        return startEligible()
    }

    /// A cleanup command has ended (or was skipped); returns the ids that start now.
    mutating func endCleanup(account: String) -> [Int] {
        if let owed = accounts[account]?.cleanupsOwed, owed > 0 { accounts[account]?.cleanupsOwed -= 1 }
        accounts[account]?.cleaning = false
        return startEligible()
    }

    /// Holds `account`: nothing starts there; its waiting jobs wait until ``handBack(account:)``.
    mutating func hold(account: String) {
        if accounts[account]?.hold == nil { accounts[account]?.hold = .waiting }
    }

    /// The held account's consumers are cancelled: removes its waiting jobs and returns their ids, to be
    /// handed back; newcomers are refused from now on (``refuses(_:)``). Does nothing unless the account is
    /// held: a hold lifted meanwhile must not leave the account refusing jobs while it consumes again.
    mutating func handBack(account: String) -> [Int] {
        guard accounts[account]?.hold != nil else { return [] }
        accounts[account]?.hold = .handingBack
        let withdrawn = waiting.filter { $0.request.account == account }.map(\.id)
        waiting.removeAll { $0.request.account == account }
        return withdrawn
    }

    /// Lifts the hold of `account`; returns the ids that start now.
    mutating func release(account: String) -> [Int] {
        accounts[account]?.hold = nil
        return startEligible()
    }

    /// Removes a request that is still waiting (its task was cancelled); false if it is not waiting.
    mutating func withdraw(id: Int) -> Bool {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return false }
        waiting.remove(at: index)
        return true
    }

    private mutating func startEligible() -> [Int] {
        var started = startCleanups()
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

    /// Starts the first waiting cleanup of each account whose turn it is.
    private mutating func startCleanups() -> [Int] {
        var started: [Int] = []
        var index = 0
        while index < waitingCleanups.count {
            let (id, account) = waitingCleanups[index]
            if let load = accounts[account], !load.cleaning, load.othersRunning <= 0 {
                accounts[account]?.cleaning = true
                waitingCleanups.remove(at: index)
                started.append(id)
            } else {
                index += 1
            }
        }
        return started
    }

    private mutating func start(_ request: Request) {
        running += 1
        accounts[request.account]?.running += 1
        if request.needsUI { accounts[request.account]?.uiRunning = true }
        for mark in request.marks { accounts[request.account]?.marks[mark, default: 0] += 1 }
    }
}
