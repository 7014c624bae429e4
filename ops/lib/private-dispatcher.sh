# shellcheck shell=bash
# A dispatcher of its own for the API checks (ops/hostile-http, ops/api-conformance, ops/console-test): a private
# broker, a fresh store with a secrets key and an admin token, on a free port. Source this file,
# then call start_private_dispatcher; stop_private_dispatcher (set as the EXIT trap) stops both.
#
# Sets: work (the folder), bin (the binaries), url, dispatcher (its pid), token_file.

start_private_dispatcher() {
  local configuration="$1"
  swift build -c "$configuration" --product botyard-dispatcher > /dev/null
  swift build -c "$configuration" --product botyard > /dev/null
  bin="$(swift build -c "$configuration" --show-bin-path)"
  work="$(mktemp -d /tmp/botyard-api-check.XXXXXX)"
  dispatcher=""
  trap stop_private_dispatcher EXIT
  ops/broker start --dir "$work/broker" > /dev/null
  # shellcheck disable=SC1091
  source "$work/broker/env"
  "$bin/botyard" keys create --output "$work/secrets.key" > /dev/null
  token_file="$work/admin.token"
  "$bin/botyard-dispatcher" create-token --database "$work/botyard.sqlite" --name api-check --output "$token_file" \
    > /dev/null
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  BOTYARD_AMQP_URL="$BOTYARD_AMQP_URL" "$bin/botyard-dispatcher" --database "$work/botyard.sqlite" --port "$port" \
    --secrets-key-file "$work/secrets.key" --durability normal > "$work/dispatcher.log" 2>&1 &
  dispatcher=$!
  url="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do curl -sf "$url/v1/health" > /dev/null && break; sleep 0.1; done
  # Something for the requests to find: a bot they may name.
  BOTYARD_URL="$url" BOTYARD_TOKEN="$(cat "$token_file")" "$bin/botyard" add-bot --name fuzz-bot --timeout 30 \
    -- /bin/true > /dev/null
}

# Fails (returns 1) when the dispatcher has exited or no longer answers its health check.
check_private_dispatcher() {
  if ! kill -0 "$dispatcher" 2> /dev/null; then
    echo "the dispatcher exited; last lines of its log:" >&2
    tail -n 20 "$work/dispatcher.log" >&2
    return 1
  elif ! curl -sf "$url/v1/health" > /dev/null; then
    echo "the dispatcher no longer answers /v1/health" >&2
    return 1
  fi
  echo "dispatcher still up and healthy (pid $dispatcher)"
}

stop_private_dispatcher() {
  if [ -n "${dispatcher:-}" ]; then kill -TERM "$dispatcher" 2> /dev/null || true; wait "$dispatcher" 2> /dev/null || true; fi
  ops/broker stop --dir "$work/broker" > /dev/null 2>&1 || true
  rm -rf "$work"
}
