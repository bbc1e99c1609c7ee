#!/usr/bin/env bash
# Measures the authenticated read every accounting client call pays for: bearer JWT check,
# token-digest lookup, workspace clock, one small JSON answer (GET /v1/integration/last-error),
# next to bare /healthz on the same server. Needs wrk (Debian: apt-get install wrk) and jq.
# Usage: bench/http_auth_read.sh [workers]   (from the repository root, after the README install)
set -euo pipefail
workers=${1:-1}
port=8099
dir=$(mktemp -d)
export PORTAL_DATABASE_URL="sqlite:///$dir/bench.db" PORTAL_OPERATOR_KEY=bench
.venv/bin/portal serve --port $port --workers "$workers" >"$dir/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
base="http://127.0.0.1:$port"
ws=$(curl -s -X POST "$base/v1/sandbox/workspaces" -H "Authorization: Bearer bench" -H 'Content-Type: application/json' -d '{"landlord": {"email": "b@bench.test", "password": "benchbench"}}')
ll=$(curl -s -X POST "$base/v1/auth/login" -H 'Content-Type: application/json' -d '{"email": "b@bench.test", "password": "benchbench"}' | jq -r .access_token)
int=$(curl -s -X POST "$base/v1/integrations" -H "Authorization: Bearer $ll" -H 'Content-Type: application/json' -d '{"name": "b", "kind": "landlord12"}' | jq -r .id)
tok=$(curl -s -X POST "$base/v1/integrations/$int/tokens" -H "Authorization: Bearer $ll" | jq -r .token)
echo "workers=$workers  (workspace $(echo "$ws" | jq -r .id))"
for run in 1 2 3; do
  echo "-- /healthz run $run";  wrk -t2 -c32 -d10s --latency "$base/healthz" | grep -E "Requests/sec|99%"
  echo "-- /v1/integration/last-error run $run"
  wrk -t2 -c32 -d10s --latency -H "Authorization: Bearer $tok" "$base/v1/integration/last-error" | grep -E "Requests/sec|99%|Non-2xx"
done
