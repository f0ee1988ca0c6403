/// A test on the caller's meters, written in a scenario as `anger >= 90 and trust <= 20`.
public struct Condition: Sendable, Equatable, CustomStringConvertible {
    public enum Comparison: String, Sendable, CaseIterable {
        case atLeast = ">=", atMost = "<=", above = ">", below = "<", equal = "=="
    }

    public struct Clause: Sendable, Equatable {
        public var meter: String
        public var comparison: Comparison
        public var value: Double

        func holds(_ meters: [String: Double]) -> Bool {
            let current = meters[meter] ?? 0
            switch comparison {
            case .atLeast: return current >= value
            case .atMost: return current <= value
            case .above: return current > value
            case .below: return current < value
            case .equal: return current == value
            }
        }
    }

    public var clauses: [Clause]

    public func holds(_ meters: [String: Double]) -> Bool { clauses.allSatisfy { $0.holds(meters) } }

    public var meters: [String] { clauses.map(\.meter) }

    public var description: String {
        clauses.map { "\($0.meter) \($0.comparison.rawValue) \(format($0.value))" }.joined(separator: " and ")
    }

    /// Parses the condition text; the error says which part is wrong.
    public static func parse(_ text: String) -> Result<Condition, SparringError> {
        let parts = text.split(separator: " and ", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var clauses: [Clause] = []
        for part in parts {
            guard let comparison = Comparison.allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count })
                .first(where: { part.contains($0.rawValue) }) else {
                return .failure(SparringError("condition", "'\(part)' needs a comparison such as 'anger >= 80'"))
            }
            let sides = part.components(separatedBy: comparison.rawValue).map { $0.trimmingCharacters(in: .whitespaces) }
            guard sides.count == 2, isIdentifier(sides[0]) else {
                return .failure(SparringError("condition", "'\(part)' should read 'meter \(comparison.rawValue) number'"))
            }
            guard let value = Double(sides[1]), (0...100).contains(value) else {
                return .failure(SparringError("condition", "'\(sides[1])' in '\(part)' is not a number from 0 to 100"))
            }
            clauses.append(Clause(meter: sides[0], comparison: comparison, value: value))
        }
        return .success(Condition(clauses: clauses))
    }
}

import Foundation
