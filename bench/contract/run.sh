#!/usr/bin/env bash
# Contract fuzzing: schemathesis (from PyPI) against the running service and
# its own /v1/openapi.json, once with an admin token and once with a
# reviewer token. Fails on any 5xx and on any response the document does
# not describe (status, media type, body schema, headers).
#
#   bench/contract/run.sh [MAX_EXAMPLES]     (default 30 per operation)
#
# It builds the service, starts it on its own embedded cluster in a
# temporary folder on 127.0.0.1, seeds one record of each kind so that
# generated ids hit (hooks.py points half of them at the seeded 1..3), and prints how many requests each pass sent.
# Reports (JUnit, HAR) go to target/contract/.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
examples="${1:-30}"
st_version="4.32.5"
out="target/contract"
venv="target/contract/venv"
mkdir -p "$out"

if [[ ! -x "$venv/bin/schemathesis" ]] || ! "$venv/bin/schemathesis" --version | grep -q "$st_version"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==$st_version"
fi

cargo build --quiet --bin claimtrail
bin="target/debug/claimtrail"
work="$(mktemp -d)"
export CLAIMTRAIL_DATA_DIR="$work/data"
unset DATABASE_URL
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
# Writes are not rate-limited here: the fuzzer writes from one token as
# fast as it can, and 429s would only hide the operations behind them.
CLAIMTRAIL_BIND="127.0.0.1:$port" CLAIMTRAIL_WRITE_RATE=0 "$bin" serve >"$out/serve.log" 2>&1 &
pid=$!
cleanup() {
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 120); do
    curl -sf "$base/healthz" >/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$out/serve.log"; exit 1; }
    sleep 0.5
done

"$bin" user add --name spare --role reporter >/dev/null
"$bin" user add --name chief --role admin >/dev/null
"$bin" user add --name checker --role reviewer >/dev/null
# Tokens 1..3 are the spare user's: the fuzzer aims ids at 1..3 and revokes
# what it finds there, which must not be the tokens it runs with.
for _ in 1 2 3; do "$bin" token create --user spare >/dev/null; done
admin="$("$bin" token create --user chief | tail -n 1)"
reviewer="$("$bin" token create --user checker | tail -n 1)"

post() {
    curl -sf -X POST "$base$1" -H "Authorization: Bearer $admin" \
        -H 'Content-Type: application/json' -d "$2" >/dev/null
}
for i in 1 2 3; do
    post /v1/stories "{\"title\": \"Harbor story $i\"}"
    post /v1/speakers "{\"name\": \"Speaker $i\", \"kind\": \"person\"}"
    post /v1/articles "{\"story_id\": $i, \"url\": \"https://news.example/harbor-$i\", \"outlet\": \"Harbor Wire\", \"published_at\": \"2026-11-20T10:00:00Z\", \"headline\": \"Harbor $i\", \"body\": \"The harbor reopens on Monday, Mayor Ana Robles said Friday. Officials said the dredging cost $i million.\"}"
    post /v1/claims "{\"story_id\": $i, \"speaker_id\": $i, \"text\": \"The harbor reopens on Monday ($i)\", \"kind\": \"paraphrase\"}"
done

# Every check but the two that judge validation against the schema alone:
# the API also refuses what a schema cannot say (a story that does not exist,
# a span past the end of the body, a cursor it did not issue). Run them with
# CHECKS=all to see those.
checks="not_a_server_error,status_code_conformance,content_type_conformance"
checks+=",response_headers_conformance,response_schema_conformance"
checks+=",missing_required_header,unsupported_method,allow_header_conformance"
checks+=",ignored_auth,use_after_free,ensure_resource_availability"
status=0
for who in admin reviewer; do
    token="${!who}"
    echo "== schemathesis as $who ($examples examples per operation)"
    # From the report folder: schemathesis keeps its cache in the working directory.
    (cd "$out" && SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$root/bench/contract" \
        "$root/$venv/bin/schemathesis" --config-file "$root/bench/contract/schemathesis.toml" \
        run "$base/v1/openapi.json" \
        --header "Authorization: Bearer $token" \
        --checks "${CHECKS:-$checks}" \
        --max-examples "$examples" \
        --seed 20261128 \
        --request-timeout 20 \
        --workers 1 \
        --exclude-path /v1/events/stream \
        --report junit,har \
        --report-junit-path "$who.junit.xml" \
        --report-har-path "$who.har" \
        --warnings off) \
        || status=$?
    python3 - "$out/$who.har" "$who" <<'PY'
import json, sys, collections
entries = json.load(open(sys.argv[1]))["log"]["entries"]
by_class = collections.Counter(f"{e['response']['status'] // 100}xx" for e in entries)
print(f"{sys.argv[2]}: {len(entries)} requests, " + ", ".join(f"{k} {v}" for k, v in sorted(by_class.items())))
PY
done
exit "$status"
