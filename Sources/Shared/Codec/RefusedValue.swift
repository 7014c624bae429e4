/// The underlying error of a `DecodingError` thrown by a type that reads well-formed JSON but
/// refuses what it says (an unknown launch method as a key): the API answers 422 with the
/// decoder's description, where a body of the wrong shape is a 400.
public struct RefusedValue: Error, Sendable, Equatable {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }
}

extension DecodingError {
    /// Whether a type refused the value (``RefusedValue``) rather than the JSON having the wrong shape.
    var refusedValue: Bool {
        guard case .dataCorrupted(let context) = self else { return false }
        return context.underlyingError is RefusedValue
    }
}
