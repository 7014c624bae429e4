"""A hostile run against Botyard's HTTP API: random and broken JSON, wrong types, huge and
deeply nested bodies, odd Unicode, path traversal in names, on every route; mostly with an
admin token, now and then with none or a hostile Authorization header.

It passes when the dispatcher stays up and answers every request, and no answer is a 5xx other
than `503 store_unavailable`. Seeded: the same seed sends the same requests.
"""
import argparse
import http.client
import json
import random
import sys
import time
import urllib.parse
from collections import Counter

ROUTES = [
    ("GET", "/v1/health"), ("GET", "/v1/stats"), ("GET", "/v1/workers"),
    ("POST", "/v1/hosts/{name}/accounts/{name}/clear-hold"),
    ("POST", "/v1/bots"), ("GET", "/v1/bots"), ("GET", "/v1/bots/{name}"),
    ("GET", "/v1/calendars"), ("PUT", "/v1/calendars/{name}"), ("GET", "/v1/calendars/{name}"),
    ("DELETE", "/v1/calendars/{name}"),
    ("GET", "/v1/dead"), ("GET", "/v1/dead/{id}"), ("POST", "/v1/dead/{id}/requeue"),
    ("GET", "/v1/groups"), ("PUT", "/v1/groups/{name}"),
    ("POST", "/v1/jobs"), ("POST", "/v1/jobs/batch"), ("GET", "/v1/jobs"), ("GET", "/v1/jobs/{id}"),
    ("GET", "/v1/jobs/{id}/log"), ("GET", "/v1/jobs/{id}/cleanup-log"), ("POST", "/v1/jobs/{id}/cancel"),
    ("POST", "/v1/jobs/{id}/pause"), ("POST", "/v1/jobs/{id}/resume"),
    ("GET", "/v1/queue-triggers"), ("PUT", "/v1/queues/{name}/trigger"), ("GET", "/v1/queues/{name}/trigger"),
    ("DELETE", "/v1/queues/{name}/trigger"),
    ("GET", "/v1/robot-queue"), ("GET", "/v1/credentials"), ("PUT", "/v1/credentials/{name}/{name}"),
    ("GET", "/v1/schedules"), ("PUT", "/v1/schedules/{name}"), ("GET", "/v1/schedules/{name}"),
    ("DELETE", "/v1/schedules/{name}"), ("POST", "/v1/schedules/{name}/pause"),
    ("POST", "/v1/schedules/{name}/resume"), ("GET", "/v1/schedules/{name}/firings"),
    ("GET", "/v1/items/{id}"), ("POST", "/v1/items/{id}/extend"), ("POST", "/v1/items/{id}/complete"),
    ("POST", "/v1/items/{id}/fail"),
    ("POST", "/v1/queues"), ("GET", "/v1/queues"), ("GET", "/v1/queues/{name}"), ("PUT", "/v1/queues/{name}"),
    ("DELETE", "/v1/queues/{name}"), ("POST", "/v1/queues/{name}/items"), ("POST", "/v1/queues/{name}/items/bulk"),
    ("GET", "/v1/queues/{name}/items"), ("POST", "/v1/queues/{name}/claim"),
    ("GET", "/v1/pipelines"), ("POST", "/v1/pipelines"), ("GET", "/v1/pipelines/{name}"),
    ("POST", "/v1/pipelines/{name}/runs"), ("GET", "/v1/pipeline-runs/{id}"),
    ("POST", "/v1/pipeline-runs/{id}/cancel"),
    ("GET", "/v1/workflows"), ("POST", "/v1/workflows"), ("POST", "/v1/workflows/{name}/runs"),
    ("GET", "/v1/workflow-runs/{id}"), ("POST", "/v1/workflow-runs/{id}/pause"),
    ("GET", "/v1/me"), ("GET", "/v1/tokens"), ("POST", "/v1/tokens"), ("DELETE", "/v1/tokens/{name}"),
    ("GET", "/v1/audit"), ("GET", "/metrics"),
]

# Bodies the API accepts, to mutate: hostile values inside requests that get past the parser.
VALID = {
    "/v1/bots": {"name": "fuzz-bot", "argv": ["/bin/true"], "timeoutSeconds": 30},
    "/v1/jobs": {"bot": "fuzz-bot", "group": "fuzz", "inputs": {"A": "1"}, "priority": "high"},
    "/v1/jobs/batch": {"jobs": [{"bot": "fuzz-bot", "group": "fuzz"}]},
    "/v1/queues": {"name": "fuzzq", "maxAttempts": 3},
    "/v1/queues/{name}/items": {"reference": "r1", "payload": {"a": 1}, "priority": "low"},
    "/v1/queues/{name}/claim": {"leaseSeconds": 30},
    "/v1/credentials/{name}/{name}": {"username": "u", "password": "p"},
    "/v1/groups/{name}": {"maxQueued": 10},
    "/v1/schedules/{name}": {"bot": "fuzz-bot", "group": "fuzz", "cron": "* * * * *", "timeZone": "UTC"},
    "/v1/calendars/{name}": {"timeZone": "UTC", "holidays": ["2026-12-25"]},
    "/v1/pipelines": {"name": "p", "steps": [{"bot": "fuzz-bot", "group": "fuzz"}]},
    "/v1/tokens": {"name": "fuzz", "role": "viewer"},
}

ODD_STRINGS = [
    "", " ", "..", "../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2f", "a/../../b",
    "\u202eevil\u202c", "\u200b\u200d\ufeff", "Ω≈ç√∫˜µ≤≥÷", "😀" * 50, "\ud7ff\ue000", "e\u0301" * 20,
    "null", "true", "-1", "0", "9" * 40, "1e400", "NaN", "$(id)", "`id`", "'; DROP TABLE jobs; --",
    "<script>alert(1)</script>", "%00", "\x01\x02\x7f", "a" * 5000, "\\", "%", "%%", "?", "#", "&x=1",
]


def odd_value(rng, depth=0):
    kind = rng.randrange(12)
    if kind == 0:
        return rng.choice(ODD_STRINGS)
    if kind == 1:
        return rng.choice([0, -1, 1, 2**31, 2**63, -2**63, 2**64, 10**30, 1.5, -0.0, 1e308])
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3 and depth < 4:
        return [odd_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 4 and depth < 4:
        return {rng.choice(ODD_STRINGS): odd_value(rng, depth + 1) for _ in range(rng.randrange(4))}
    if kind == 5:
        return "x" * rng.choice([1, 100, 10_000, 100_000])
    return rng.choice(ODD_STRINGS + ["fuzz", "fuzz-bot", "g1"])


def mutate(rng, value, depth=0):
    """The valid body with some fields dropped, retyped or given hostile values."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            roll = rng.random()
            if roll < 0.15:
                continue
            out[key] = odd_value(rng) if roll < 0.45 else mutate(rng, item, depth + 1)
        if rng.random() < 0.3:
            out[rng.choice(ODD_STRINGS)] = odd_value(rng)
        return out
    if isinstance(value, list):
        return [mutate(rng, item, depth + 1) for item in value] * rng.choice([1, 1, 2, 100])
    return odd_value(rng) if rng.random() < 0.5 else value


def body(rng, template):
    """Bytes to send, and what kind of hostility they are."""
    kind = rng.randrange(10)
    if kind == 0:
        depth = rng.choice([100, 1_000, 100_000])
        return ("[" * depth + "]" * depth).encode(), "deep"
    if kind == 1:
        return json.dumps({"bot": "x" * rng.choice([1 << 20, 5 << 20]), "group": "g"}).encode(), "huge"
    if kind == 2:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))), "binary"
    if kind == 3:
        text = json.dumps(mutate(rng, template or {"a": 1}))
        return text[: rng.randrange(len(text) + 1)].encode(), "truncated"
    if kind == 4:
        return b'{"bot": "\xff\xfe\xed", "group": "\xc0\xaf"}', "bad utf-8"
    if kind == 5:
        return json.dumps(odd_value(rng)).encode(), "random json"
    if kind == 6:
        return b"", "empty"
    return json.dumps(mutate(rng, template) if template else odd_value(rng), ensure_ascii=rng.random() < 0.5,
                      allow_nan=True).encode(), "mutated"


def path(rng, pattern):
    def name():
        text = rng.choice(ODD_STRINGS + ["fuzz", "fuzz-bot", "fuzzq", "h1", "robot1"])
        return urllib.parse.quote(text, safe="" if rng.random() < 0.8 else "/%")
    def ident():
        return rng.choice(["1", "0", "-1", "999999999999999999999", "1.5", "abc", "%00", "..%2f1", "1"])
    result = pattern
    while "{name}" in result:
        result = result.replace("{name}", name(), 1)
    while "{id}" in result:
        result = result.replace("{id}", ident(), 1)
    if rng.random() < 0.1:
        result += "?" + urllib.parse.urlencode({rng.choice(ODD_STRINGS): rng.choice(ODD_STRINGS)})
    return result


def authorization(rng, token):
    """Mostly the run's token; now and then none, or a hostile Authorization header."""
    roll = rng.random()
    if roll < 0.9:
        return {"Authorization": f"Bearer {token}"}
    if roll < 0.95:
        return {}
    # What a header can carry at all: Latin-1, no control characters.
    sendable = [text for text in ODD_STRINGS if text.isprintable() and all(ord(c) < 256 for c in text)]
    odd = rng.choice(sendable + ["byt_", "byt_" + "0" * 12 + "_" + "0" * 64, token[:-1], token + "x"])
    return {"Authorization": rng.choice(["Bearer ", "Basic ", "bearer ", ""]) + odd}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="the dispatcher, e.g. http://127.0.0.1:8080")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--token-file", required=True, help="an admin token's file")
    arguments = parser.parse_args()
    with open(arguments.token_file) as file:
        token = file.read().strip()
    rng = random.Random(arguments.seed)
    target = urllib.parse.urlparse(arguments.url)
    statuses, kinds, failures = Counter(), Counter(), []
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
    started = time.monotonic()
    for number in range(arguments.requests):
        method, pattern = rng.choice(ROUTES)
        template = VALID.get(pattern) or VALID.get(pattern.replace("/{name}", "", 1))
        data, kind = body(rng, template) if method in ("POST", "PUT") else (None, "none")
        if method == "GET" and rng.random() < 0.05:
            data, kind = body(rng, None)
        target_path = path(rng, pattern)
        headers = {"Content-Type": rng.choice(["application/json", "text/plain", "application/json; charset=latin1"])}
        headers.update(authorization(rng, token))
        try:
            connection.request(method, target_path, body=data, headers=headers)
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as error:
            # The server may close a connection after refusing a body; a second try tells a crash.
            connection.close()
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            try:
                connection.request("GET", "/v1/health")
                connection.getresponse().read()
            except (OSError, http.client.HTTPException):
                failures.append(f"request {number} ({method} {target_path[:80]}, {kind}): no answer, and the "
                                f"dispatcher does not answer any more: {error!r}")
                break
            statuses["connection closed"] += 1
            continue
        statuses[response.status] += 1
        kinds[kind] += 1
        if response.status >= 500 and not (response.status == 503 and b"store_unavailable" in answer):
            failures.append(f"request {number} ({method} {target_path[:80]}, {kind}): "
                            f"{response.status} {answer[:200]!r}")
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
    elapsed = time.monotonic() - started
    print(f"hostile run: {sum(statuses.values())} requests in {elapsed:.1f} s (seed {arguments.seed})")
    print("answers: " + ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items(), key=str)))
    print("bodies: " + ", ".join(f"{kind}: {count}" for kind, count in sorted(kinds.items())))
    print(f"5xx other than store_unavailable, or no answer: {len(failures)}")
    for failure in failures[:20]:
        print("  " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
