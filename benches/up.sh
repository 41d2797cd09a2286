#!/usr/bin/env bash
# Benchmark of `gitops-iam up` in the local sandbox (see docs/performance.md).
#
#   benches/up.sh [LATENCY_SECONDS]      (default 5; also BENCH_CREATE_DELAY)
#
# Cluster creation takes 10-20 minutes for real; the sandbox emulates it with an injected
# latency L per `eksctl create cluster`. Prints, for that L:
#   - wall time of `up` from scratch;
#   - wall time of the same steps one after the other in the procedure's order (`mgmt`, then
#     `agent patch`, then `testing`, as a CI pipeline runs them), and the ratio of the two;
#   - time and command counts of a second, converged `up`;
#   - median time of `up --dry-run`;
#   - `up` with 1 and with 5 testing clusters, and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_sandbox_tools

L=${1:-${BENCH_CREATE_DELAY:-5}}
DRY_RUNS=${BENCH_DRY_RUNS:-50}
cargo build --release --quiet
bin="$PWD/target/release"
agent="$PWD/tests/sandbox/agent.yaml"
root=$(mktemp -d "${TMPDIR:-/tmp}/gitops-iam-bench.XXXXXX")
sandboxes=()
cleanup() {
  for sb in "${sandboxes[@]}"; do tests/sandbox/sandbox stop "$sb" >/dev/null 2>&1 || true; done
  rm -rf "$root"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
count() { grep -c . "$1" || true; }
# a JSON line's key (a `"` inside a string is written `\"`, so no argv word matches)
count_mutating() { grep -c '"mutating":true' "$1" || true; }

# Starts a sandbox NAME with the create latency; its env goes to $root/NAME.env.
start() {
  local name=$1
  SANDBOX_CREATE_DELAY=$L tests/sandbox/sandbox start "$root/$name" >/dev/null
  sandboxes+=("$root/$name")
  mkdir -p "$root/$name.work"
}

# Runs a command inside sandbox NAME's environment, in its work dir.
in_sandbox() {
  local name=$1
  shift
  (
    # shellcheck disable=SC1090
    source "$root/$name/env.sh"
    export PATH="$bin:$PATH" SANDBOX_CREATE_DELAY=$L
    cd "$root/$name.work"
    "$@"
  )
}

say "benchmark with cluster-creation latency L=${L}s (2 clusters)"

start par
t0=$(now)
in_sandbox par gitops-iam up -q --region us-east-1 --agent-manifest "$agent" --log-file "$root/first.jsonl"
t1=$(now)
up_time=$(elapsed "$t0" "$t1")
# When each `eksctl create cluster` started, from the diagnostic log: its `finished` event's
# time less its duration, counted from the start of `up`.
creations=$(python3 - "$root/first.jsonl" "$t0" <<'PY'
import datetime, json, sys
starts = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    span = e.get("span", {})
    if e["fields"].get("message") == "finished" and " create cluster " in span.get("command", ""):
        end = datetime.datetime.fromisoformat(e["timestamp"]).timestamp()
        starts.append(end - e["fields"]["duration_ms"] / 1000 - float(sys.argv[2]))
print(", ".join(f"{s:.2f}" for s in sorted(starts)) or "none")
PY
)
first_cmds=$(count "$root/par/commands.log")
first_mut=$(count_mutating "$root/par/commands.log")
cp "$root/par/commands.log" "$root/first.log"

t0=$(now); in_sandbox par gitops-iam up -q --region us-east-1 --agent-manifest "$agent"; t1=$(now)
again_time=$(elapsed "$t0" "$t1")
again_cmds=$(($(count "$root/par/commands.log") - first_cmds))
again_mut=$(($(count_mutating "$root/par/commands.log") - first_mut))

# The procedure's order, one section after the other: what a CI pipeline of one job per
# subcommand does, and what the tutorial does by hand.
start seq
t0=$(now)
in_sandbox seq gitops-iam mgmt -q --region us-east-1
in_sandbox seq gitops-iam agent patch -q --region us-east-1 --agent-manifest "$agent"
in_sandbox seq gitops-iam testing -q --region us-east-1
t1=$(now)
seq_time=$(elapsed "$t0" "$t1")
seq_cmds=$(count "$root/seq/commands.log")

# Timed from Python so the timer's own process start does not count.
dry_median=$(python3 - "$bin/gitops-iam" "$agent" "$DRY_RUNS" <<'PY'
import statistics, subprocess, sys, time
exe, agent, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    subprocess.run([exe, "up", "--dry-run", "--region", "us-east-1", "--agent-manifest", agent],
                   stdout=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - t0)
print(f"{statistics.median(times) * 1000:.1f}")
PY
)

# Sets fleet_time (not a subshell: `start` records the sandbox for cleanup).
fleet() {
  local n=$1 file=$root/fleet-$1.yaml
  {
    echo "region: us-east-1"
    echo "agent_manifest: $agent"
    echo "testing:"
    for i in $(seq "$n"); do echo "  - name: testing-$i"; done
  } >"$file"
  start "fleet$n"
  local t0 t1
  t0=$(now); in_sandbox "fleet$n" gitops-iam up -q --config "$file"; t1=$(now)
  fleet_time=$(elapsed "$t0" "$t1")
}
fleet 1
fleet1=$fleet_time
fleet 5
fleet5=$fleet_time

cat <<TABLE

gitops-iam benchmark (sandbox, L=${L}s per cluster creation, $(nproc) cores)
  up from scratch                         ${up_time} s   (${first_cmds} commands, ${first_mut} mutating)
  cluster creations start at              ${creations} s
  mgmt, agent patch, testing in turn      ${seq_time} s   (${seq_cmds} commands)
  ratio up / sequential                   $(ratio "$up_time" "$seq_time")   (target <= 0.55, limit 0.5)
  second up (converged)                   ${again_time} s   (${again_cmds} commands, ${again_mut} mutating; $(ratio "$again_time" "$up_time") of the first run, target <= 0.10)
  up --dry-run, median of ${DRY_RUNS}             ${dry_median} ms  (target < 10 ms)
  up with 1 testing cluster               ${fleet1} s
  up with 5 testing clusters              ${fleet5} s
  ratio 5 / 1                             $(ratio "$fleet5" "$fleet1")   (target <= 1.3)
TABLE
