/// Validation of the names that end up in queue names, routing keys, environment variables and file paths.
public enum Names {
    /// Letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters.
    public static func isValid(_ name: String) -> Bool {
        let scalars = name.unicodeScalars
        guard let first = scalars.first, scalars.count <= 64, isAlphanumeric(first) else { return false }
        return scalars.allSatisfy { isAlphanumeric($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// A runner group name: like ``isValid(_:)`` but without dots, since the group is one
    /// level of the routing key `<group>.<priority>`; `account` is reserved for the routing
    /// keys of account queues.
    public static func isValidGroup(_ name: String) -> Bool {
        isValid(name) && !name.contains(".") && name != "account"
    }

    /// What ``isValidGroup(_:)`` asks, in words.
    public static let groupRule = "group must be 1-64 letters, digits, '_' or '-', starting with a letter or digit, "
        + "and not 'account'"

    /// An account name: like ``isValid(_:)`` but without dots, since it ends the names
    /// `botyard.account.<host>.<account>` and `botyard.lease.<host>.<account>`, whose host may
    /// hold dots (`vm1.corp`): without a dot in the account, no two (host, account) pairs share one.
    public static func isValidAccount(_ name: String) -> Bool {
        isValid(name) && !name.contains(".")
    }

    /// What ``isValidAccount(_:)`` asks, in words.
    public static let accountRule = "account must be 1-64 letters, digits, '_' or '-', starting with a letter or digit"

    /// An input or output key usable as an environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
    public static func isValidVariable(_ name: String) -> Bool {
        let scalars = name.unicodeScalars
        guard let first = scalars.first, scalars.count <= 128, first == "_" || isLetter(first) else { return false }
        return scalars.allSatisfy { $0 == "_" || isAlphanumeric($0) }
    }

    private static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        isLetter(scalar) || ("0"..."9").contains(scalar)
    }
}
