import TriggerSimulation

/// One line of the comparison table.
struct ReportRow {
    static let headers = [
        "scenario", "strategy", "jobs", "over-scheduled", "peak jobs", "wait mean", "wait max", "total", "robot time",
    ]

    let cells: [String]

    init(_ report: SimulationReport) {
        cells = [
            report.scenario, report.variant.label, "\(report.jobsStarted)", "\(report.overScheduledJobs)",
            "\(report.peakLiveJobs)", Clock.format(report.meanWaitSeconds), Clock.format(report.maxWaitSeconds),
            Clock.format(report.totalSeconds), Clock.format(report.robotSeconds),
        ]
    }
}

/// Durations as `h:mm:ss` or `m:ss`, whole seconds.
enum Clock {
    static func format(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        let (hours, minutes, rest) = (whole / 3600, whole / 60 % 60, whole % 60)
        let twoDigits = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        return hours > 0 ? "\(hours):\(twoDigits(minutes)):\(twoDigits(rest))" : "\(minutes):\(twoDigits(rest))"
    }
}
