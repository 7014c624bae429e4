import Shared

/// Whether a worker's ``CredentialRequest`` entitles it to an account's credential: only for a
/// live job of its own group whose bot needs the GUI session, on an account of a host its group
/// serves (and for a launch targeted at an account, that account on the host it went to).
///
/// The answer is sealed with the group's key, so a worker can read only what its group is
/// given; this check keeps a group from being given another group's accounts.
struct CredentialEntitlement: Equatable {
    /// What the check needs to know of the job.
    struct Job: Equatable {
        var group: String
        var state: JobState
        var needsUI: Bool
        var account: String?
        var dispatchHost: String?
    }

    enum Verdict: Equatable {
        case entitled
        case refused(String)
        /// No worker of the group has reported from the host yet (its first heartbeat may still
        /// be on its way): the worker asks again.
        case hostNotYetKnown
    }

    var request: CredentialRequest
    /// Nil when no such job exists.
    var job: Job?
    /// A worker of the request's group has reported from the request's host.
    var hostInGroup: Bool

    var verdict: Verdict {
        guard let job else { return .refused("job \(request.jobID) does not exist") }
        guard job.group == request.group else {
            return .refused("job \(request.jobID) belongs to group \(job.group), not \(request.group)")
        }
        guard !job.state.isTerminal else { return .refused("job \(request.jobID) is \(job.state.rawValue) already") }
        guard job.needsUI else { return .refused("job \(request.jobID)'s bot needs no account session") }
        if let account = job.account,
           account != request.account || job.dispatchHost != request.host {
            return .refused("job \(request.jobID) was launched to \(account) on \(job.dispatchHost ?? "no host")")
        }
        guard hostInGroup else { return .hostNotYetKnown }
        return .entitled
    }
}

extension CredentialEntitlement.Job {
    init(_ job: JobRecord) {
        self.init(group: job.group, state: job.state, needsUI: job.botSnapshot.needsUI, account: job.account,
                  dispatchHost: job.dispatchHost)
    }
}
