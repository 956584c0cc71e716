#!/usr/bin/env bash
# Turnout's benchmark: starts the release server on SQLite, then on
# PostgreSQL, and drives GET /healthz, GET slots in a time zone, the article
# page and its Content API, POST
# registrations with unique people, and POST consultations (each with a lead
# recorded just before by a POST /leads run), each with wrk at 64
# connections for a fixed time. Prints req/s, p50, p99 and the server's
# peak RSS.
#
#   bench/run.sh                 # both backends
#   BACKENDS=sqlite bench/run.sh # one
#   SCENARIOS="registrations" bench/run.sh # some of: reads registrations
#                                          # consultations limited (all by default)
#   DURATION=8s CONNECTIONS=64 THREADS=2 are the defaults.
#
# Throughput runs with the abuse limits off (TURNOUT_LIMITS_ENABLED=false,
# one client address would be refused after 30 writes a minute); a last
# registration run per backend turns them on and sends each request with
# an X-Forwarded-For from a trusted 127.0.0.1, spread over 60,000 client
# addresses, to show what the limiter costs.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-8s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
BACKENDS="${BACKENDS:-sqlite postgres}"
SCENARIOS="${SCENARIOS:-reads registrations consultations limited}"
PG_SERVER="${PG_SERVER:-postgres://postgres@127.0.0.1:5432}"
PORT="${PORT:-18181}"
BASE="http://127.0.0.1:$PORT"
TOKEN="bench-admin-token-bench-admin-token"
OUT="bench/out"
mkdir -p "$OUT"

command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }; }
# BIN=path/to/turnout measures another build (an earlier commit's, say).
if [ -z "${BIN:-}" ]; then
    cargo build --release -p turnout >/dev/null
    BIN=target/release/turnout
fi

server_pid=""
stop_server() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
trap stop_server EXIT

start_server() { # $1 = database url, $2 = limits on (true/false, default false)
    local data="$OUT/data-$$"
    rm -rf "$data"
    # With limits on, the form-token check is left out: wrk cannot wait
    # out a fill time, and what is measured is the limiter.
    RUST_LOG=warn DATABASE_URL="$1" TURNOUT_ADMIN_TOKEN="$TOKEN" \
        TURNOUT_LIMITS_ENABLED="${2:-false}" TURNOUT_LIMITS_MIN_FILL_MS=0 TURNOUT_TRUSTED_PROXIES=127.0.0.1 \
        TURNOUT_WORKER_IN_SERVE="${WORKER_IN_SERVE:-true}" \
        "$BIN" --data-dir "$data" serve --bind "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        curl -fs "$BASE/readyz" >/dev/null 2>&1 && return
        sleep 0.1
    done
    echo "server did not start:" >&2
    cat "$OUT/server.log" >&2
    exit 1
}

admin() { # method path body
    curl -fsS -X "$1" "$BASE$2" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "$3"
}

seed_advisors() {
    for n in $(seq 1 20); do
        local availability=""
        for day in monday tuesday wednesday thursday friday saturday sunday; do
            availability="$availability{\"weekday\":\"$day\",\"starts\":\"00:00\",\"ends\":\"23:59\"},"
        done
        admin POST /api/v1/admin/advisors "{\"name\":\"Bench Advisor $n\",\"email\":\"advisor$n@example.com\",
            \"time_zone\":\"Asia/Kolkata\",\"availability\":[${availability%,}],\"max_calls_per_window\":1000}" >/dev/null
    done
    WINDOWS=$(curl -fsS "$BASE/api/v1/consultation-windows?tz=Asia/Kolkata" |
        grep -o '"window_id":"[^"]*"' | sed -E 's/"window_id":"([^"]*)"/\1/' | tail -n 12 | tr '\n' ' ')
}

seed() {
    admin POST /api/v1/admin/webinars '{"slug":"bench","title":"Benchmark webinar","time_zone":"Asia/Kolkata",
        "duration_minutes":60,"hosts":[{"name":"Bench Host","title":"Host"}],"status":"published"}' >/dev/null
    SLOTS=""
    for day in 1 2 3 4 5 6 7 8; do
        local starts
        starts=$(date -u -d "+${day} days" +%Y-%m-%dT12:30:00Z)
        local id
        id=$(admin POST /api/v1/admin/webinars/bench/slots "{\"starts_at\":\"$starts\",\"capacity\":100000}" |
            sed -E 's/.*"slot_id":([0-9]+).*/\1/')
        SLOTS="$SLOTS $id"
    done
}

seed_article() {
    # The demo's long guide, with tables and an FAQ, promoting the bench webinar.
    python3 - "$OUT/article.json" <<'PY'
import json, sys
body = open("crates/turnout/demo/ml-engineer-job-description.md").read()
json.dump({"slug": "bench-article", "title": "Machine learning engineer: job description, skills and salary",
           "summary": "What ML engineers do, the skills that get them hired, and what they earn.", "body": body,
           "contributors": [{"name": "Kavya Raman", "title": "Senior Career Writer", "role": "author"},
                            {"name": "Rohan Desai", "title": "Engineering Manager", "role": "reviewed_by"}],
           "tags": ["machine-learning"], "webinar": "bench", "status": "published",
           "faq": [{"question": "Do I need a PhD?", "answer": "No."}]}, open(sys.argv[1], "w"))
PY
    curl -fsS -X POST "$BASE/api/v1/admin/articles" -H "authorization: Bearer $TOKEN" \
        -H 'content-type: application/json' --data-binary "@$OUT/article.json" >/dev/null
}

# Runs wrk and prints "req/s p50 p99 non2xx"; HEADER="name: value" adds
# a request header.
load() { # name url [script]
    local log="$OUT/$1.txt"
    local header=()
    if [ -n "${HEADER:-}" ]; then header=(-H "$HEADER"); fi
    if [ -n "${3:-}" ]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${header[@]}" -s "$3" "$2" >"$log"
    else
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${header[@]}" "$2" >"$log"
    fi
    local rps p50 p99 errors
    rps=$(awk '/^Requests\/sec/ {print $2}' "$log")
    p50=$(awk '$1 == "50%" {print $2}' "$log")
    p99=$(awk '$1 == "99%" {print $2}' "$log")
    errors=$(awk '/Non-2xx/ {print $5}' "$log")
    echo "$rps $p50 $p99 ${errors:-0}"
}

wants() { [[ " $SCENARIOS " == *" $1 "* ]]; }

peak_rss() { awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/$server_pid/status"; }

echo "Turnout benchmark: $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(date -u +%Y-%m-%d)"
printf '%-9s %-28s %10s %9s %9s %8s\n' backend scenario req/s p50 p99 non-2xx
for backend in $BACKENDS; do
    case "$backend" in
        sqlite) url="sqlite://$OUT/data-$$/turnout.db" ;;
        postgres)
            db="turnout_bench_$$"
            psql "$PG_SERVER/postgres" -qc "CREATE DATABASE $db"
            url="$PG_SERVER/$db"
            ;;
        *) echo "unknown backend $backend" >&2; exit 2 ;;
    esac
    start_server "$url"
    seed
    if wants reads; then
    read -r rps p50 p99 errors < <(load "$backend-healthz" "$BASE/healthz")
    printf '%-9s %-28s %10s %9s %9s %8s\n' "$backend" "GET /healthz" "$rps" "$p50" "$p99" "$errors"
    read -r rps p50 p99 errors < <(load "$backend-slots" "$BASE/api/v1/webinars/bench/slots?tz=America/New_York")
    printf '%-9s %-28s %10s %9s %9s %8s\n' "$backend" "GET slots?tz=America/New_York" "$rps" "$p50" "$p99" "$errors"
    seed_article
    read -r rps p50 p99 errors < <(load "$backend-article-page" "$BASE/articles/bench-article")
    printf '%-9s %-28s %10s %9s %9s %8s\n' "$backend" "GET /articles/{slug}" "$rps" "$p50" "$p99" "$errors"
    read -r rps p50 p99 errors < <(HEADER="Accept-Encoding: br" load "$backend-article-page-br" "$BASE/articles/bench-article")
    printf '%-9s %-28s %10s %9s %9s %8s\n' "$backend" "GET /articles/{slug}, br" "$rps" "$p50" "$p99" "$errors"
    read -r rps p50 p99 errors < <(HEADER="Accept-Encoding: gzip" load "$backend-article-page-gzip" "$BASE/articles/bench-article")
    printf '%-9s %-28s %10s %9s %9s %8s\n' "$backend" "GET /articles/{slug}, gzip" "$rps" "$p50" "$p99" "$errors"
    read -r rps p50 p99 errors < <(load "$backend-article-api" "$BASE/api/v1/articles/bench-article")
    printf '%-9s %-28s %10s %9s %9s %8s\n' "$backend" "GET /api/v1/articles/{slug}" "$rps" "$p50" "$p99" "$errors"
    fi
    if wants registrations; then
    read -r rps p50 p99 errors < <(TURNOUT_BENCH_SLOTS="$SLOTS" TURNOUT_BENCH_WEBINAR=bench \
        load "$backend-register" "$BASE" bench/register.lua)
    printf '%-9s %-28s %10s %9s %9s %8s\n' "$backend" "POST /registrations" "$rps" "$p50" "$p99" "$errors"
    if [ "$backend" = postgres ]; then
        curl -fsS -H "authorization: Bearer $TOKEN" "$BASE/metrics" | awk '
            /^turnout_registration_batch_size_sum/ { size = $2 }
            /^turnout_registration_batch_size_count/ { count = $2 }
            /^turnout_registration_batch_duration_seconds_sum/ { seconds = $2 }
            END { if (count) printf "postgres batches: %d, %.1f registrations and %.1f ms each on average\n",
                count, size / count, 1000 * seconds / count }'
    fi
    fi
    if wants consultations; then
    seed_advisors
    rm -f "$OUT"/leads-*.txt
    TURNOUT_BENCH_WEBINAR=bench TURNOUT_BENCH_OUT="$OUT" load "$backend-leads" "$BASE" bench/leads.lua >/dev/null
    read -r rps p50 p99 errors < <(TURNOUT_BENCH_WINDOWS="$WINDOWS" TURNOUT_BENCH_OUT="$OUT" \
        TURNOUT_BENCH_THREADS="$THREADS" DURATION="${CONSULT_DURATION:-4s}" \
        load "$backend-consult" "$BASE" bench/consult.lua)
    printf '%-9s %-28s %10s %9s %9s %8s\n' "$backend" "POST /consultations" "$rps" "$p50" "$p99" "$errors"
    echo "$backend consultations created: $(curl -fsS -H "authorization: Bearer $TOKEN" "$BASE/metrics" |
        awk -F' ' '/^turnout_consultations_total\{outcome="created"\}/ {print $2}')"
    fi
    echo "$backend peak RSS: $(peak_rss)"
    stop_server
    if wants limited; then
    if [ "$backend" = postgres ]; then
        psql "$PG_SERVER/postgres" -qc "DROP DATABASE $db WITH (FORCE)"
        psql "$PG_SERVER/postgres" -qc "CREATE DATABASE $db"
    fi
    start_server "$url" true
    seed
    read -r rps p50 p99 errors < <(TURNOUT_BENCH_SLOTS="$SLOTS" TURNOUT_BENCH_WEBINAR=bench TURNOUT_BENCH_FORWARDED=1 \
        load "$backend-register-limited" "$BASE" bench/register.lua)
    printf '%-9s %-28s %10s %9s %9s %8s\n' "$backend" "POST /registrations, limits" "$rps" "$p50" "$p99" "$errors"
    stop_server
    fi
    if [ "$backend" = postgres ]; then
        psql "$PG_SERVER/postgres" -qc "DROP DATABASE $db WITH (FORCE)"
    fi
done
rm -rf "$OUT"/data-*
