/// What one end-to-end job costs the whole machine (``MachineCPU``) for each way of running it,
/// and how much of that is the bot itself (``BotsAlone``).
///
/// On a machine the work keeps busy, a contender's jobs per second are the cores divided by its
/// CPU a job; so running twice Celery's rate takes at most half of Celery's CPU a job, bot
/// included — and the bot's share is the same for everyone.
struct EndToEndCPU {
    /// The bots alone: `/bin/true` spawned with its output captured, nothing else.
    var bots: Duration
    var botyard: Duration
    /// Raw rabbitmq-c doing the same unit of work.
    var raw: Duration

    /// The table's row: each contender's CPU a job beyond the bot's own, and Celery's whole CPU a
    /// task over Botyard's when Celery ran.
    func row(celery: Duration?) -> (String, String) {
        func beyondBots(_ cpu: Duration) -> String { Throughput.milliseconds(cpu - bots) }
        var contenders = "Botyard / raw rabbitmq-c"
        var figures = "\(beyondBots(botyard)) / \(beyondBots(raw))"
        if let celery {
            contenders += " / Celery"
            figures += String(format: " / %@; Celery's whole CPU a task ÷ Botyard's = %.2f (2 × Celery's rate on "
                                + "a busy machine takes 2)", beyondBots(celery), celery / botyard)
        }
        return ("machine CPU a job beyond the bot's own (\(Throughput.milliseconds(bots))): \(contenders)", figures)
    }
}
