import Hummingbird

/// The web console: `/` and its assets under `/console/`, compiled into the binary (`PackageResources`).
///
/// Open routes: the page holds no data. Its script asks for an API token and calls the API with it, so the
/// console can do nothing its token could not do with curl. A strict Content-Security-Policy allows only this
/// origin's scripts, styles and API (no inline code), so a hostile string that reached the page could not run.
struct ConsoleRoutes {
    /// One file of the console.
    struct Asset: Sendable {
        var bytes: [UInt8]
        var contentType: String
    }

    /// The files under `/console/`, by name.
    static let assets: [String: Asset] = [
        "console.css": Asset(bytes: PackageResources.console_css, contentType: "text/css; charset=utf-8"),
        "console.js": Asset(bytes: PackageResources.console_js, contentType: "text/javascript; charset=utf-8"),
        "dom.js": Asset(bytes: PackageResources.dom_js, contentType: "text/javascript; charset=utf-8"),
        "charts.js": Asset(bytes: PackageResources.charts_js, contentType: "text/javascript; charset=utf-8"),
        "pages.js": Asset(bytes: PackageResources.pages_js, contentType: "text/javascript; charset=utf-8"),
    ]

    static let index = Asset(bytes: PackageResources.index_html, contentType: "text/html; charset=utf-8")

    static let contentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
        + "frame-ancestors 'none'"

    func register(on router: Router<APIRequestContext>) {
        router.get("/") { _, _ in Self.response(Self.index) }
        router.get("console/:file") { _, context in
            let name = try context.parameters.require("file")
            guard let asset = Self.assets[name] else { throw APIError.notFound("console file \(name)") }
            return Self.response(asset)
        }
    }

    /// The asset, never cached without asking (a new dispatcher may ship a new console) and never framed.
    static func response(_ asset: Asset) -> Response {
        Response(status: .ok,
                 headers: [
                     .contentType: asset.contentType,
                     .cacheControl: "no-cache",
                     .contentSecurityPolicy: contentSecurityPolicy,
                     .xContentTypeOptions: "nosniff",
                 ],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }
}
