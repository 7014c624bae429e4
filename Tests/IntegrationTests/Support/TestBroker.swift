import Foundation
import Shared
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The private broker that `ops/test` starts for the run. Each test gets a virtual host of
/// its own, so tests never see each other's queues.
enum TestBroker {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// The broker's AMQP URL; fails loudly when the suite runs without one.
    static func url() throws -> AMQPURL {
        guard let text = ProcessInfo.processInfo.environment["BOTYARD_TEST_AMQP_URL"] else {
            throw Unavailable(description: "BOTYARD_TEST_AMQP_URL is not set: run the integration tests with ops/test, "
                + "which starts a private RabbitMQ for them")
        }
        return try AMQPURL(parsing: text)
    }

    /// The broker's `amqps://` URL (its TLS listener, with the CA that signed its certificate);
    /// fails loudly when the suite runs without one.
    static func tlsURL() throws -> AMQPURL {
        guard let text = ProcessInfo.processInfo.environment["BOTYARD_TEST_AMQPS_URL"] else {
            throw Unavailable(description: "BOTYARD_TEST_AMQPS_URL is not set: run the integration tests with ops/test, "
                + "which starts the private RabbitMQ with a TLS listener (ops/broker start --tls)")
        }
        return try AMQPURL(parsing: text)
    }

    static func managementURL() throws -> URL {
        guard let text = ProcessInfo.processInfo.environment["BOTYARD_TEST_MANAGEMENT_URL"], let url = URL(string: text) else {
            throw Unavailable(description: "BOTYARD_TEST_MANAGEMENT_URL is not set: run the integration tests with ops/test")
        }
        return url
    }

    /// Runs `body` with a fresh virtual host (and its ``TestUsers``), deleted afterwards. `body`
    /// gets the URL as `guest`.
    static func withVirtualHost<Value>(_ body: (AMQPURL) async throws -> Value) async throws -> Value {
        let name = "test-\(UUID().uuidString.prefix(8).lowercased())"
        let url = try url().with(virtualHost: name)
        try await createVirtualHost(name)
        let users = TestUsers.register(virtualHost: name)
        do {
            let value = try await body(url)
            await users.deleteAll()
            try? await deleteVirtualHost(name)
            return value
        } catch {
            await users.deleteAll()
            try? await deleteVirtualHost(name)
            throw error
        }
    }

    static func createVirtualHost(_ name: String) async throws {
        try await management(.put, "api/vhosts/\(name)")
        try await management(.put, "api/permissions/\(name)/guest", body: #"{"configure":".*","write":".*","read":".*"}"#)
    }

    static func deleteVirtualHost(_ name: String) async throws {
        try await management(.delete, "api/vhosts/\(name)")
    }

    static func deleteUser(_ name: String) async {
        _ = try? await management(.delete, "api/users/\(name)")
    }

    enum Method: String { case get = "GET", put = "PUT", post = "POST", delete = "DELETE" }

    /// Calls RabbitMQ's management HTTP API as guest.
    @discardableResult
    static func management(_ method: Method, _ path: String, body: String? = nil) async throws -> Data {
        var request = URLRequest(url: try managementURL().appendingPathComponent(path))
        request.httpMethod = method.rawValue
        request.setValue("Basic " + Data("guest:guest".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body.map { Data($0.utf8) } ?? (method == .put ? Data("{}".utf8) : nil)
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw Unavailable(description: "management API \(method.rawValue) \(path): HTTP \(status) "
                + String(decoding: data, as: UTF8.self))
        }
        return data
    }
}

extension TestBroker {
    /// Runs `rabbitmqctl` against the test broker (as ops/broker does) and returns its output.
    static func rabbitmqctl(_ arguments: [String]) async throws -> String {
        guard let folder = ProcessInfo.processInfo.environment["BOTYARD_TEST_BROKER_DIR"] else {
            throw Unavailable(description: "BOTYARD_TEST_BROKER_DIR is not set: run the integration tests with ops/test")
        }
        var settings: [String: String] = [:]
        for line in try String(contentsOfFile: folder + "/env", encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { settings[parts[0]] = parts[1] }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/lib/rabbitmq/bin/rabbitmqctl")
        process.arguments = ["-q", "-n", settings["BOTYARD_BROKER_NODE"] ?? ""] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = folder + "/home"
        environment["ERL_EPMD_PORT"] = settings["BOTYARD_BROKER_EPMD_PORT"]
        environment["ERL_EPMD_ADDRESS"] = "127.0.0.1"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Read on a thread of its own: the Erlang VM takes seconds to answer (see ``waitUntilGone``).
        let data = await withCheckedContinuation { read in
            Thread { read.resume(returning: output.fileHandleForReading.readDataToEndOfFile()) }.start()
        }
        await waitUntilGone(timeout: .seconds(60)) { !process.isRunning }
        guard process.terminationStatus == 0 else {
            throw Unavailable(description: "rabbitmqctl \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

extension TestBroker {
    /// A consumer as the management API lists it.
    struct Consumer: Decodable {
        struct Queue: Decodable { var name: String }
        struct Channel: Decodable { var name: String }

        var queue: Queue
        /// Nil while the broker has not filled in the channel yet (it lists `[]` then).
        var channel: Channel?
        var prefetchCount: Int

        enum CodingKeys: String, CodingKey {
            case queue
            case channel = "channel_details"
            case prefetchCount = "prefetch_count"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            queue = try container.decode(Queue.self, forKey: .queue)
            channel = try? container.decode(Channel.self, forKey: .channel)
            prefetchCount = try container.decode(Int.self, forKey: .prefetchCount)
        }
    }

    /// The consumers of a virtual host (`GET /api/consumers/<vhost>`), grouped by channel: for
    /// each channel, the per-consumer prefetch of each queue it consumes (-1 for a queue it
    /// consumes twice, so that no expectation matches that).
    static func prefetchByChannel(virtualHost: String) async throws -> [[String: Int]] {
        let listing = try await management(.get, "api/consumers/\(virtualHost)")
        let consumers = try JSONDecoder().decode([Consumer].self, from: listing)
        return Dictionary(grouping: consumers.filter { $0.channel != nil }, by: { $0.channel!.name }).values.map { consumers in
            Dictionary(consumers.map { ($0.queue.name, $0.prefetchCount) }, uniquingKeysWith: { _, _ in -1 })
        }
    }
}

/// Runs `body` with a connection to `url`, closed when `body` returns or throws.
func withConnection<Value>(to url: AMQPURL, name: String = "test", replyTimeout: Duration = .seconds(30),
                           _ body: (AMQPConnection) async throws -> Value) async throws -> Value {
    let connection = try await AMQPConnection.connect(to: url, name: name, replyTimeout: replyTimeout,
                                                      logger: Fleet.logger)
    return try await withTeardown { try await body(connection) } teardown: { await connection.close() }
}
