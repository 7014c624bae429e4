import Foundation

/// The dispatcher reads a heartbeat from every worker every few seconds, with a status for each of
/// its accounts (a worker may serve a hundred): by hand (``JSONReadable``), where `JSONDecoder`
/// took 1.5 % of a steady fleet's dispatcher.
extension WorkerHeartbeat: JSONReadable {
    public init(json: JSONNode) throws(JSONMismatch) {
        let object = try json.object()
        self.init(workerID: try object.decode("workerID"), group: try object.decode("group"),
                  host: try object.decode("host"), accounts: try object.decode("accounts"),
                  slots: try object.decode("slots"), running: try object.decode("running"),
                  intervalSeconds: try object.decode("intervalSeconds"), stopping: try object.decode("stopping"),
                  at: try object.decode("at"))
    }
}

extension AccountStatus: JSONReadable {
    public init(json: JSONNode) throws(JSONMismatch) {
        let object = try json.object()
        self.init(name: try object.decode("name"), limit: try object.decode("limit"),
                  running: try object.decode("running"), uiRunning: try object.decode("uiRunning"),
                  served: try object.decode("served"), hold: try object.decodeIfPresent("hold"))
    }
}
