import ArgumentParser
import Foundation

/// `--database`, shared by the dispatcher's subcommands: the file they open.
struct DatabaseOption: ParsableArguments {
    @Option(name: .customLong("database"),
            help: "SQLite database file (default: $BOTYARD_DATABASE, else botyard.sqlite).")
    var databaseOption: String?

    var path: String {
        databaseOption ?? ProcessInfo.processInfo.environment["BOTYARD_DATABASE"] ?? "botyard.sqlite"
    }
}
