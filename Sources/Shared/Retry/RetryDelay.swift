/// The delays the retry exchange has queues for.
///
/// RabbitMQ expires messages only at the head of a queue, so one queue holding several delays
/// would hold a short wait behind a long one: there is one TTL queue per delay. To keep the
/// number of queues bounded while exponential backoff with jitter asks for any wait, a wait is
/// rounded **up** to two significant digits (1 234 ms → 1 300 ms): a job never restarts
/// sooner than its wait, and at most ~10 % later.
public enum RetryDelay {
    public static func bucket(forMilliseconds milliseconds: Int) -> Int {
        guard milliseconds > 100 else { return Swift.max(milliseconds, 0) }
        var scale = 1
        while milliseconds / scale >= 100 { scale *= 10 }
        return (milliseconds + scale - 1) / scale * scale
    }
}
