/// Why a job failed, in the RPA sense.
///
/// A **business** failure is one the bot declared itself (it wrote `BUSINESS_EXCEPTION=<reason>` to
/// its `BOTYARD_OUTPUT` and exited on its own): running it again would fail the same way, so it is
/// never retried. A **system** failure is everything else that ends a job unsuccessfully — exit
/// codes, crashes, timeouts, lost workers — after the retry policy has had its go.
public enum FailureKind: String, Codable, Sendable {
    case business
    case system
}
