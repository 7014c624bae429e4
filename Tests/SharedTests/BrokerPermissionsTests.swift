import Foundation
import Shared
import Testing

@Suite("Broker permissions")
struct BrokerPermissionsTests {
    let workers = BrokerPermissions.workers(group: "ga", hosts: ["h1.corp", "h2"])

    @Test("a group's workers may declare only their hosts' account and lease queues and their group's control queues")
    func workerConfigure() {
        for name in ["botyard.account.h1.corp.robot1", "botyard.lease.h2.robot9", "botyard.control.ga.w-1"] {
            #expect(matches(workers.configure, name), "\(name)")
        }
        for name in ["botyard.jobs.ga.normal", "botyard.jobs", "botyard.dead", "botyard.account.h3.robot1",
                     "botyard.account.h1Xcorp.robot1", "botyard.lease.h1.corp.robot1.extra", "botyard.control.gb.w-1",
                     "botyard.events.dispatcher"] {
            #expect(!matches(workers.configure, name), "\(name)")
        }
    }

    @Test("a group's workers read their group's job queues, their accounts' and control queues, nothing of others")
    func workerRead() {
        for name in ["botyard.jobs.ga.high", "botyard.jobs.ga.low.ui", "botyard.account.h2.robot1", "botyard.control.ga.w"] {
            #expect(matches(workers.read, name), "\(name)")
        }
        for name in ["botyard.jobs.gb.high", "botyard.jobs.ga.urgent", "botyard.events.dispatcher", "botyard.dead",
                     "botyard.dead.dispatcher", "botyard.retry.1000ms"] {
            #expect(!matches(workers.read, name), "\(name)")
        }
    }

    @Test("a group's workers publish reports and parked messages only: every report's routing key, no job's")
    func workerWrite() throws {
        #expect(matches(workers.write, Topology.eventsExchange) && matches(workers.write, Topology.deadExchange))
        #expect(!matches(workers.write, Topology.jobsExchange) && !matches(workers.write, Topology.controlExchange))
        let events = try #require(workers.topics.first { $0.exchange == Topology.eventsExchange })
        for kind in JobEvent.Kind.allCases {
            #expect(matches(events.write, "job.\(kind.rawValue)"), "\(kind)")
        }
        #expect(matches(events.write, WorkerHeartbeat.routingKey))
        #expect(!matches(events.write, "anything"))
        let jobs = try #require(workers.topics.first { $0.exchange == Topology.jobsExchange })
        #expect(!matches(jobs.write, "ga.normal"))
        #expect(matches(jobs.read, "ga.normal.ui") && matches(jobs.read, "account.h1.corp.robot1"))
        #expect(!matches(jobs.read, "gb.normal") && !matches(jobs.read, "account.h3.robot1"))
    }

    @Test("the dispatcher may declare, publish to and read every name of the topology, and no lease or control queue")
    func dispatcher() {
        let dispatcher = BrokerPermissions.dispatcher
        let names = [Topology.jobsExchange, Topology.retryExchange, Topology.deadExchange, Topology.eventsExchange,
                     Topology.controlExchange, Topology.deadQueue, Topology.dispatcherDeadQueue,
                     Topology.dispatcherEventsQueue, Topology.jobQueue(group: "any-group", priority: .low, lane: .ui),
                     Topology.accountQueue(host: "vm1.corp", account: "robot1"), Topology.retryQueue(delayMilliseconds: 250)]
        for name in names {
            #expect(matches(dispatcher.configure, name) && matches(dispatcher.write, name) && matches(dispatcher.read, name),
                    "\(name)")
        }
        for name in [Topology.leaseQueue(host: "h1", account: "robot1"), Topology.controlQueue(group: "g", workerID: "w")] {
            #expect(!matches(dispatcher.configure, name) && !matches(dispatcher.read, name), "\(name)")
        }
    }

    private func matches(_ pattern: String, _ name: String) -> Bool {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return false }
        return expression.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
    }
}
