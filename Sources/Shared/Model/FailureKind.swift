/// Why a job failed, as RPA teams tell failures apart.
public enum FailureKind: String, Codable, Sendable {
    /// The bot declared that the business case cannot be done (an invoice without an order number):
    /// retrying would fail the same way, so it is never retried.
    case business
    /// A crash, a timeout, an exit code, a lost worker: worth another attempt.
    case system
}
