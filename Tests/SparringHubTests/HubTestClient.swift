import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPTypes
import Hummingbird
import NIOCore
import SparringHub

/// An answer as the tests read it.
struct HubResponse: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer
}

/// Requests to a hub on loopback through URLSession, as a browser's first hop sees them: redirects
/// are answers (not followed), no cookie is kept between requests, and a slow answer on a busy
/// machine is waited for rather than cut off.
struct HubTestClient: Sendable {
    let base: String
    let session: URLSession

    init(port: Int) {
        base = "http://127.0.0.1:\(port)"
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.timeoutIntervalForRequest = 600
        session = URLSession(configuration: configuration, delegate: KeepRedirects(), delegateQueue: nil)
    }

    @discardableResult
    func execute(uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil) async throws -> HubResponse {
        var request = URLRequest(url: URL(string: base + uri)!)
        request.httpMethod = method.rawValue
        request.httpShouldHandleCookies = false
        for field in headers { request.addValue(field.value, forHTTPHeaderField: field.name.rawName) }
        if let body { request.httpBody = Data(body.readableBytesView) }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields = HTTPFields()
        for (name, value) in http.allHeaderFields {
            guard let text = name as? String, let name = HTTPField.Name(text), let value = value as? String else { continue }
            // Several Set-Cookie lines arrive joined; ours carry no commas of their own (no Expires).
            if name == .setCookie {
                for cookie in value.split(separator: ",") { fields.append(HTTPField(name: name, value: cookie.trimmingCharacters(in: .whitespaces))) }
            } else {
                fields[name] = value
            }
        }
        return HubResponse(status: HTTPResponse.Status(code: http.statusCode), headers: fields, body: ByteBuffer(bytes: data))
    }
}

/// Answers a redirect with itself, so tests see the 303 and its Location.
final class KeepRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}

extension Hub {
    /// Serves on a free loopback port while `body` runs, then shuts down.
    func serving<T: Sendable>(_ body: @escaping @Sendable (HubTestClient, String) async throws -> T) async throws -> T {
        let port = LocalPostgres.freePort()
        let app = Application(router: router(), configuration: .init(address: .hostname("127.0.0.1", port: port)))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.run()
                return nil
            }
            let client = HubTestClient(port: port)
            for _ in 0..<600 {
                if (try? await client.execute(uri: "/healthz", method: .get)) != nil { break }
                try await Task.sleep(nanoseconds: 50_000_000)
            }
            let result: T
            do { result = try await body(client, client.base) } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
            return result
        }
    }
}
