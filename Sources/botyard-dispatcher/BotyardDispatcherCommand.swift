import ArgumentParser

@main
struct BotyardDispatcherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "botyard-dispatcher",
        abstract: "Stores jobs in SQLite, publishes them to RabbitMQ and serves the HTTP API.",
        subcommands: [ServeCommand.self, CreateTokenCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
