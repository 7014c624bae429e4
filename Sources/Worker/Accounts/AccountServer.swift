import Logging
import ServiceLifecycle
import Shared

/// Serves one account of the worker's host for as long as the connection lives: claims its
/// lease (standing by while another process holds it), stops what a dead predecessor left
/// running there, then consumes the group's six job queues and the account's own queue
/// (launches from the robot queue) on the account's behalf, on a channel of its own.
///
/// Each consumer's prefetch is what the account may run from its lane (the account's limit for
/// background bots, 1 for UI bots) plus one look-ahead: when a slot frees, the next job of
/// every priority is already here for the ``PriorityScheduler`` to choose from. Without it,
/// the priority whose job just ended (and was acknowledged) would have nothing waiting at that
/// instant and lose its turn. The ``AdmissionGate`` holds the limits across queues.
///
/// An account is its own failure domain: a consumer the broker cancels (its queue was deleted)
/// is declared and consumed again, on a channel of its own, while its jobs run on; a channel the
/// broker closes hands back only this account's jobs (their deliveries went back with it) before a
/// new channel takes over.
/// Only a broken connection ends the worker's other accounts too.
///
/// An account whose cleanup command failed is held (``AccountHolds``): it cancels its consumers, hands
/// the jobs it holds as look-ahead back to their queues, lets the jobs it runs finish, and consumes
/// again only when an operator clears the hold; the worker's other accounts go on.
struct AccountServer: Sendable {
    let account: AccountConfiguration
    let configuration: WorkerConfiguration
    let connection: AMQPConnection
    /// Where consumers are registered, so that shutdown can cancel them.
    let consumers: ConsumerRegistry
    let orphans: OrphanReaper
    /// Holds the account in the worker's ``AdmissionGate`` too.
    let holds: AccountHolds
    /// Runs the cleanups that recorded runs owe the account (their bots are stopped already); false when one
    /// failed and the account is held.
    let cleanUpOrphans: @Sendable ([OrphanReaper.Orphan]) async -> Bool
    /// False once shutdown has begun.
    let isAccepting: @Sendable () -> Bool
    /// Told whether the account is consumed now (reported in heartbeats).
    let setServed: @Sendable (Bool) -> Void
    /// Takes one delivery for the account from the queue given; returns once it is settled.
    let handle: @Sendable (AMQPDelivery, ConsumedQueue) async -> Void
    let logger: Logger

    /// Jobs each consumer holds beyond what the account may run from its lane.
    static let lookAhead = 1

    func run() async throws {
        guard try await claimLease(), isAccepting() else { return }
        var failures = 0
        while isAccepting() {
            // Whenever it (re)starts consuming (nothing of the account runs here then): what a dead predecessor
            // left running is stopped at once, held or not.
            let orphaned = reapLeftovers()
            // Read from disk: another worker process of the host may have held or cleared the account while
            // this one stood by.
            if let reason = holds.reload(account.name) {
                try await waitWhileHeld(reason)
                continue
            }
            // The cleanups owed run before any job; one that fails holds the account, the rest wait for the clear.
            guard await cleanUpOrphans(orphaned) else { continue }
            do {
                switch try await consume(declaringJobQueues: failures > 0) {
                case .shutdown: return
                case .held: continue
                }
            } catch let error as AMQPError where connection.isOpen {
                setServed(false)
                failures += 1
                logger.error("the account's channel failed; its jobs were handed back; consuming again", metadata: [
                    "error": "\(error)",
                ])
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Kills the bots and cleanups a dead worker left running on the account; returns the recorded runs.
    private func reapLeftovers() -> [OrphanReaper.Orphan] {
        let orphaned = orphans.reap(account: account.name)
        let killed = orphaned.filter(\.killed).map(\.pid)
        if !killed.isEmpty {
            logger.warning("stopped bots a dead worker left running on the account", metadata: [
                "bot.pids": "\(killed.map(String.init).joined(separator: ","))",
            ])
        }
        let cleanups = orphaned.compactMap(\.killedCleanup)
        if !cleanups.isEmpty {
            logger.warning("stopped cleanups a dead worker left running on the account; they run again", metadata: [
                "cleanup.pids": "\(cleanups.map(String.init).joined(separator: ","))",
            ])
        }
        return orphaned
    }

    /// Takes no jobs until an operator clears the hold (or shutdown).
    private func waitWhileHeld(_ reason: String) async throws {
        // Nothing is handed back when a clear came first: the loop then consumes again.
        guard holds.handBack(account.name) != nil else { return }
        // The lease is this worker's: the heartbeats show the account served, with its hold.
        setServed(true)
        logger.error("account held: it takes no jobs until an operator clears it", metadata: ["account.hold": "\(reason)"])
        while isAccepting() && holds.reason(of: account.name) != nil {
            try Task.checkCancellation()
            await holds.waitForChange(of: account.name, timeout: .seconds(1))
        }
        if holds.reason(of: account.name) == nil { logger.notice("account hold cleared; consuming again") }
    }

    /// Why consuming ended.
    enum ConsumeEnd {
        /// Shutdown cancelled the consumers.
        case shutdown
        /// The account was held: its consumers were cancelled and its jobs handed back or finished.
        case held
    }

    /// Bots the account may run at once.
    private var limit: Int { configuration.accountLimits[account.name] ?? 1 }

    /// The queues the account consumes, with their prefetch.
    var queues: [(name: String, prefetch: Int)] {
        var queues: [(name: String, prefetch: Int)] = []
        for lane in Topology.Lane.allCases {
            for priority in Priority.descending {
                queues.append((Topology.jobQueue(group: configuration.group, priority: priority, lane: lane),
                               (lane == .ui ? 1 : limit) + Self.lookAhead))
            }
        }
        queues.append((Topology.accountQueue(host: configuration.host, account: account.name),
                       limit + Self.lookAhead))
        return queues
    }

    /// Consumes on a new channel until shutdown cancels the consumers (returns) or the channel
    /// fails (throws, once this account's jobs have been handed back).
    private func consume(declaringJobQueues: Bool) async throws -> ConsumeEnd {
        let channel = try await connection.openChannel()
        let end: ConsumeEnd
        do {
            end = try await consume(on: channel, declaringJobQueues: declaringJobQueues)
        } catch {
            await channel.close()
            throw error
        }
        await channel.close()  // every delivery taken on it is settled by now
        return end
    }

    private func consume(on channel: AMQPChannel, declaringJobQueues: Bool) async throws -> ConsumeEnd {
        // This channel's consumers, so that a hold cancels them (and only them).
        let own = ConsumerRegistry()
        var started: [(queue: String, prefetch: Int, consumer: AMQPConsumer)] = []
        for queue in queues {
            guard let consumer = try await subscribe(queue.name, prefetch: queue.prefetch, on: channel, own: own,
                                                     declaringJobQueues: declaringJobQueues && started.isEmpty)
            else {
                for other in started { try? await other.consumer.cancel() }
                return .shutdown
            }
            started.append((queue.name, queue.prefetch, consumer))
        }
        // Reported only now, so that the dispatcher sends launches to the account's queue once it exists.
        setServed(true)
        logger.info("account served", metadata: ["account.limit": "\(limit)", "runner.group": "\(configuration.group)"])
        let consumers = started
        return try await withThrowingTaskGroup(of: ConsumeEnd?.self) { tasks in
            tasks.addTask {
                // A failure of the channel ends this group: its jobs' tasks are cancelled, which stops
                // their bots and hands the jobs back.
                try await withThrowingDiscardingTaskGroup { group in
                    for (queue, prefetch, consumer) in consumers {
                        group.addTask { try await serve(queue, prefetch: prefetch, from: consumer, on: channel, own: own) }
                    }
                }
                return .shutdown
            }
            tasks.addTask {
                // Woken by a change of the hold, or cancelled with the group: no timer, so that an idle
                // worker serving many accounts does not wake for each of them every second.
                while !Task.isCancelled {
                    if holds.reason(of: account.name) != nil { return .held }
                    await holds.waitForChange(of: account.name, timeout: nil)
                }
                return nil
            }
            var end = ConsumeEnd.shutdown
            while let next = try await tasks.next() {
                switch next {
                case .held?:
                    // Consumers first, so that the jobs handed back are not delivered here again. A clear
                    // that comes meanwhile leaves the waiting jobs to start here (``AccountHolds/handBack(_:)``),
                    // and the run loop consumes again.
                    end = .held
                    for consumer in own.close() { try? await consumer.cancel() }
                    if let reason = holds.handBack(account.name) {
                        logger.error("account held: its consumers are cancelled and its waiting jobs handed back",
                                     metadata: ["account.hold": "\(reason)"])
                    }
                case .shutdown?:
                    tasks.cancelAll()
                    return end
                case nil:
                    break
                }
            }
            return end
        }
    }

    /// Takes the deliveries of one queue until its consumer is cancelled by shutdown; a consumer
    /// the broker cancels (it deleted the queue) is replaced while the jobs taken from it run on
    /// (not during a drain), and those jobs know their queue is gone.
    private func serve(_ queue: String, prefetch: Int, from first: AMQPConsumer, on channel: AMQPChannel,
                       own: ConsumerRegistry) async throws {
        // Replacing consumers' channels, closed once every delivery taken on them is settled.
        var replacements: [AMQPChannel] = []
        do {
            try await withThrowingDiscardingTaskGroup { jobs in
                var consumer: AMQPConsumer? = first
                while let current = consumer {
                    consumer = nil
                    let source = ConsumedQueue(name: queue)
                    do {
                        for try await delivery in current { jobs.addTask { await handle(delivery, source) } }
                    } catch let error as AMQPError where error.code == .consumerCancelled {
                        source.markDeleted()
                        // Draining: the jobs taken from it run on; nothing more is taken.
                        guard isAccepting() else { break }
                        logger.warning("the broker cancelled a consumer; consuming its queue again", metadata: [
                            "amqp.queue": "\(queue)", "error": "\(error)",
                        ])
                        guard let (replacement, next) = try await resubscribe(queue, prefetch: prefetch, own: own)
                        else { break }
                        replacements.append(replacement)
                        consumer = next
                    }
                }
            }
        } catch {
            for replacement in replacements { await replacement.close() }
            throw error
        }
        for replacement in replacements { await replacement.close() }
    }

    /// Consumes `queue` again, on a channel of its own, after the broker cancelled its consumer:
    /// a declare or consume the broker refuses while it is still deleting the queue closes that
    /// channel only, never the one the account's running jobs are settled on. Tried again every
    /// second until it works; nil once shutdown has begun or the account is held.
    private func resubscribe(_ queue: String, prefetch: Int,
                             own: ConsumerRegistry) async throws -> (AMQPChannel, AMQPConsumer)? {
        var failures = 0
        while isAccepting() {
            let channel = try await connection.openChannel()
            do {
                guard let consumer = try await subscribe(queue, prefetch: prefetch, on: channel, own: own,
                                                         declaringJobQueues: true)
                else {
                    await channel.close()
                    return nil
                }
                if failures > 0 { logger.notice("queue consumed again", metadata: ["amqp.queue": "\(queue)"]) }
                return (channel, consumer)
            } catch let error as AMQPError where connection.isOpen {
                await channel.close()
                if failures == 0 {
                    logger.error("the broker refused to consume the queue again; trying again", metadata: [
                        "amqp.queue": "\(queue)", "error": "\(error)",
                    ])
                }
                failures += 1
            }
            try await Task.sleep(for: .seconds(1))
        }
        return nil
    }

    /// Consumes `queue`; nil once shutdown has begun or the account is held. The account's queue is
    /// declared first, and the group's job queues when `declaringJobQueues` and the broker user may (they
    /// may have been deleted; the worker declared them when it connected).
    private func subscribe(_ queue: String, prefetch: Int, on channel: AMQPChannel, own: ConsumerRegistry,
                           declaringJobQueues: Bool) async throws -> AMQPConsumer? {
        if queue == Topology.accountQueue(host: configuration.host, account: account.name) {
            try await TopologyDeclarer.declareAccountQueue(host: configuration.host, account: account.name, on: channel)
        } else if declaringJobQueues {
            try await TopologyDeclarer.declareIfPermitted(on: connection) { [group = configuration.group] in
                try await TopologyDeclarer.declareJobQueues(group: group, on: $0)
            }
        }
        let consumer = try await channel.consume(queue: queue, prefetch: UInt16(prefetch))
        guard consumers.add(consumer), own.add(consumer) else {
            try? await consumer.cancel()
            return nil
        }
        return consumer
    }

    /// Claims the account's lease, retrying while another process holds it; false when shutdown
    /// came first.
    ///
    /// A claim the broker refuses for another reason than a holder (its broker user may not declare the
    /// lease, a broker-side limit) is this account's failure alone: it is logged and tried again at the
    /// same interval while the worker's other accounts go on. Only a broken connection escapes. (A queue of
    /// the lease's name that some other client declared is refused as held, `405`, like a live holder.)
    private func claimLease() async throws -> Bool {
        var refusals = 0
        var failures = 0
        while isAccepting() {
            let channel = try await connection.openChannel()
            do {
                try await AccountLease.claim(host: configuration.host, account: account.name, on: channel)
                await channel.close()
                if refusals > 0 { logger.notice("account taken over: its lease was released") }
                if failures > 0 { logger.notice("account's lease claimed after failed claims") }
                return true
            } catch let refusal as AccountLease.Refused {
                await channel.close()
                if refusals == 0 { logger.warning("\(refusal); standing by") }
                refusals += 1
            } catch let error as AMQPError where connection.isOpen {
                await channel.close()
                if failures == 0 {
                    logger.error("the broker refused the account's lease claim; trying again", metadata: [
                        "error": "\(error)", "retry.interval": "\(configuration.leaseRetryInterval)",
                    ])
                }
                failures += 1
            }
            do {
                let interval = configuration.leaseRetryInterval
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch is CancellationError {
                return false
            }
        }
        return false
    }
}
