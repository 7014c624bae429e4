import Foundation

/// Files of Linux's `/proc`.
public enum ProcFile {
    /// The text of `path`, read to its end; nil when it cannot be opened (a process that is gone).
    ///
    /// A `/proc` file says its size is 0: Foundation's `String(contentsOfFile:)` reads only its first
    /// page, which cuts a long one (`smaps`) short.
    public static func text(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }
}
