import Foundation
import SparringSessions

/// Random tokens and their hashes. The hub keeps only hashes of what grants access
/// (device tokens, enrolment codes, sign-in cookies), so a copy of its database opens nothing.
enum Secrets {
    /// A token of `bytes` random bytes from the system's generator, URL- and cookie-safe.
    static func token(bytes: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<bytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// An enrolment code a person can read out and type: 12 letters and digits without look-alikes, in groups of four.
    static func code() -> String {
        let alphabet = Array("ABCDEFGHJKMNPQRSTVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        let letters = (0..<12).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return stride(from: 0, to: 12, by: 4).map { String(letters[$0..<$0 + 4]) }.joined(separator: "-")
    }

    /// An enrolment code as typed, made comparable: case and separators do not matter.
    static func normalizedCode(_ text: String) -> String {
        String(text.uppercased().filter { $0.isLetter || $0.isNumber })
    }

    static func sha256(_ data: Data) -> String { ContentHash.sha256(data) }

    static func sha256(_ text: String) -> String { sha256(Data(text.utf8)) }

    /// Compares two secrets in time that does not depend on where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
