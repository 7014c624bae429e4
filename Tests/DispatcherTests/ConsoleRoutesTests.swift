import Foundation
import Hummingbird
import HummingbirdTesting
import Shared
import TestSupport
import Testing

@testable import Dispatcher

/// The web console's files: served without a token, with their types and a strict policy.
/// (What the page does is tested in a real browser by `ops/console-test`.)
@Suite("Web console routes")
struct ConsoleRoutesTests {
    func withClient(_ body: @escaping @Sendable (APIClient) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            let router = buildRouter(store: store, robotQueueSignal: WakeSignal())
            try await Application(router: router).test(.router) { client in
                try await body(APIClient(client: client, token: nil))
            }
        }
    }

    @Test("the page and each of its files are served without a token, never cached unasked, under a strict CSP")
    func servedOpenly() async throws {
        try await withClient { client in
            var files = [("/", "text/html; charset=utf-8")]
            for (name, asset) in ConsoleRoutes.assets.sorted(by: { $0.key < $1.key }) {
                files.append(("/console/\(name)", asset.contentType))
            }
            for (path, contentType) in files {
                let response = try await client.send(.get, path)
                #expect(response.status == .ok, "\(path)")
                #expect(response.headers[.contentType] == contentType, "\(path)")
                #expect(response.headers[.cacheControl] == "no-cache", "\(path)")
                #expect(response.headers[.contentSecurityPolicy] == ConsoleRoutes.contentSecurityPolicy, "\(path)")
                #expect(response.body.readableBytes > 0, "\(path)")
            }
            #expect(ConsoleRoutes.contentSecurityPolicy.contains("script-src 'self';"))
            #expect(!ConsoleRoutes.contentSecurityPolicy.contains("unsafe"))
        }
    }

    @Test("a file the console does not have is a 404 not_found, path tricks included")
    func unknownFile() async throws {
        try await withClient { client in
            for path in ["/console/nothing.js", "/console/..%2Fopenapi.json", "/console/index.html%00.js"] {
                let response = try await client.send(.get, path)
                #expect(response.status == .notFound, "\(path)")
                #expect(try response.errorCode() == "not_found", "\(path)")
            }
        }
    }

    @Test("no inline script, style or event handler anywhere (the CSP would block them), and no innerHTML")
    func noInlineCode() {
        let page = String(decoding: ConsoleRoutes.index.bytes, as: UTF8.self)
        #expect(!page.contains("<script>"))
        #expect(!page.contains("<style"))
        #expect(page.firstMatch(of: /\s(style|on[a-z]+)\s*=/) == nil)
        for (name, asset) in ConsoleRoutes.assets where name.hasSuffix(".js") {
            let script = String(decoding: asset.bytes, as: UTF8.self)
            #expect(!script.contains("innerHTML"), "\(name)")
            #expect(!script.contains("insertAdjacentHTML"), "\(name)")
            #expect(!script.contains("eval("), "\(name)")
        }
    }
}
