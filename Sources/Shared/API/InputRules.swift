/// What makes a job's inputs usable: keys that are environment variable names, no NUL bytes,
/// and a bounded size. Jobs, pipeline steps and workflow nodes share these rules.
public enum InputRules {
    public static let maximumBytes = 64 * 1024

    /// The problems of `inputs`, in words; empty when they are usable.
    public static func problems(_ inputs: [String: String]) -> [String] {
        var problems: [String] = []
        for key in inputs.keys.sorted() where !Names.isValidVariable(key) {
            problems.append("input key '\(key.prefix(64))' must match [A-Za-z_][A-Za-z0-9_]*")
        }
        if inputs.contains(where: { $0.value.utf8.contains(0) }) {
            problems.append("inputs must not contain NUL bytes")
        }
        let size = inputs.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        if size > maximumBytes { problems.append("inputs exceed \(maximumBytes) bytes") }
        return problems
    }
}
