#!/usr/bin/env bash
# Signal → exit latency of every long-running command (spec/system.md §4: within 100 ms).
# For each command: one run without a signal (its duration bounds the moments), then N runs
# with SIGINT or SIGTERM at a random moment within 10–90 % of that duration; the time from
# kill(2) to the end of the process (waitpid) is one sample. Every interrupted run must exit
# 130 or 143; any other status is reported and the script exits 1.
# Prints one row per command: median, 90th percentile and max latency in ms, samples over 100 ms.
#
# Usage: Benchmarks/cancel/latency.sh [SIZE_BYTES] [N]   (default 1 GiB, 20 signals per command)
#   CAIRN=PATH uses that binary (no build); COMMANDS="add add-car …" picks commands;
#   SEED=N fixes the moments (default 7); VERBOSE=1 prints every sample on stderr; SETTLE=S pauses S seconds after each trial (default 1); CHUNKER=SPEC the chunker of every add (default
#   size-16384: many blocks, so per-block loops show; size-262144 shows per-batch steps).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
SIZE=${1:-1073741824}
N=${2:-20}
WORK=${TMPDIR:-/tmp}/cairn-cancel-bench
mkdir -p "$WORK"
if [[ -z "${CAIRN:-}" ]]; then
    echo "building release…" >&2
    (cd "$root" && swift build -c release --product cairn >/dev/null)
    CAIRN="$root/.build/release/cairn"
fi
source "$root/Benchmarks/common.sh"
INPUT="$WORK/sm7_$SIZE"
make_input "$WORK" "$SIZE" "$INPUT"

CHUNKER=${CHUNKER:-size-16384}
WORK="$WORK/$CHUNKER"
mkdir -p "$WORK"
exec python3 - "$CAIRN" "$INPUT" "$WORK" "$N" "${SEED:-7}" "${COMMANDS:-}" "$CHUNKER" <<'PY'
import os, random, re, shutil, signal, statistics, subprocess, sys, time

cairn, input_path, work, trials, seed, only, chunker = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6].split(), sys.argv[7]
rng = random.Random(seed)
base = os.path.join(work, "base")          # a store holding INPUT
car = os.path.join(work, f"input-{os.path.getsize(input_path)}.car")  # one per size: a CAR of another size never stands in

def cairn_ok(*args, **kw):
    done = subprocess.run([cairn, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if done.returncode != 0:
        sys.exit(f"cairn {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()

def handlers_installed(pid):
    """True once the process catches SIGINT and SIGTERM (SigCgt of /proc/PID/status)."""
    wanted = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))
    for _ in range(2000):
        try:
            text = open(f"/proc/{pid}/status").read()
        except OSError:
            return
        if "State:\tZ" in text:
            return
        match = re.search(r"^SigCgt:\s*([0-9a-f]+)", text, re.M)
        if match and int(match.group(1), 16) & wanted == wanted:
            return
        time.sleep(0.002)

def run(args, sig=None, delay=0.0):
    """Runs cairn ARGS; returns (status, seconds of work, kill→exit seconds or None)."""
    process = subprocess.Popen([cairn, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    handlers_installed(process.pid)
    ready = time.monotonic()
    latency = None
    if sig is not None:
        time.sleep(delay)
        sent = time.monotonic()
        process.send_signal(sig)
        status = process.wait()
        latency = time.monotonic() - sent
    else:
        status = process.wait()
    err = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    return status, time.monotonic() - ready, latency, err

def fresh(directory, with_store=False):
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    if with_store:
        shutil.copytree(base, os.path.join(directory, "store"))

shutil.rmtree(base, ignore_errors=True)
root_cid = cairn_ok("add", "-Q", "--chunker", chunker, "--store", base, input_path)
if not os.path.exists(car):
    cairn_ok("car", "export", root_cid, "-o", car, "--store", base)
unpinned = os.path.join(work, "unpinned")
shutil.rmtree(unpinned, ignore_errors=True)
shutil.copytree(base, unpinned)
cairn_ok("pin", "rm", root_cid, "--store", unpinned)

serve = None
def remote():
    """A `cairn serve` over the base store, for fetch; started once."""
    global serve
    if serve is None:
        serve = subprocess.Popen([cairn, "serve", "--store", base, "--api", "127.0.0.1:0", "--gateway", "none"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in serve.stdout:
            match = re.search(r"/tcp/(\d+)", line)
            if match:
                serve.address = f"http://127.0.0.1:{match.group(1)}"
                break
    return serve.address

# name: (arguments for a trial directory D, preparation of D)
commands = {
    "add":          (lambda d: ["add", "--chunker", chunker, "--store", d + "/store", input_path], lambda d: fresh(d)),
    "add-car":      (lambda d: ["add", "--chunker", chunker, "--car", d + "/out.car", input_path], lambda d: fresh(d)),
    "car-create":   (lambda d: ["car", "create", "--chunker", chunker, input_path, "-o", d + "/out.car"], lambda d: fresh(d)),
    "car-export":   (lambda d: ["car", "export", root_cid, "-o", d + "/out.car", "--store", base], lambda d: fresh(d)),
    "car-import":   (lambda d: ["car", "import", car, "--store", d + "/store"], lambda d: fresh(d)),
    "car-verify":   (lambda d: ["car", "verify", car], lambda d: fresh(d)),
    "gc":           (lambda d: ["gc", "--compact-threshold", "1", "--store", d + "/store"],
                     lambda d: (shutil.rmtree(d, ignore_errors=True), os.makedirs(d), shutil.copytree(unpinned, d + "/store"))),
    "store-verify": (lambda d: ["store", "verify", "--store", base], lambda d: fresh(d)),
    "cat":          (lambda d: ["cat", root_cid, "--store", base], lambda d: fresh(d)),
    "get":          (lambda d: ["get", root_cid, "-o", d + "/out", "--store", base], lambda d: fresh(d)),
    "bench-chunkers": (lambda d: ["bench", "chunkers", input_path, "--chunkers", "rabin,buzhash,fastcdc"], lambda d: fresh(d)),
    "fetch":        (lambda d: ["fetch", root_cid, "--from", remote(), "--store", d + "/store"], lambda d: fresh(d)),
}
names = only or list(commands)

print(f"| {'command (' + str(os.path.getsize(input_path) >> 20) + ' MiB, ' + chunker + ', ' + str(trials) + ' signals)':<44} | {'run s':>6} | {'median ms':>9} | {'p90 ms':>7} | {'max ms':>7} | {'>100 ms':>7} |")
print(f"|{'-' * 46}|{'-' * 8}|{'-' * 11}|{'-' * 9}|{'-' * 9}|{'-' * 9}|")
failed = False
try:
    for name in names:
        arguments, prepare = commands[name]
        directory = os.path.join(work, name)
        prepare(directory)
        status, duration, _, err = run(arguments(directory))
        if status != 0:
            print(f"{name}: status {status} without a signal: {err.strip()}", file=sys.stderr)
            failed = True
            continue
        samples = []
        for trial in range(trials):
            prepare(directory)
            sig = rng.choice([signal.SIGINT, signal.SIGTERM])
            delay = duration * rng.uniform(0.1, 0.9)
            status, _, latency, err = run(arguments(directory), sig, delay)
            # The removed output's blocks are freed by the hand-off child after the command
            # ended (FileDisposal; a discard of 1 GiB takes 0.2-0.5 s on a `discard` mount):
            # the next trial starts once the device is done with it, not during.
            time.sleep(float(os.environ.get("SETTLE", "1")))
            if status not in (128 + sig, 0):
                print(f"{name}: signal {int(sig)} after {delay:.3f} s: status {status}, {err.strip()}", file=sys.stderr)
                failed = True
            if status == 128 + sig:
                samples.append(latency * 1000)
            if os.environ.get("VERBOSE"):
                print(f"{name}: signal {int(sig)} at {delay:.3f} s of {duration:.2f} s: status {status}, {latency * 1000:.1f} ms", file=sys.stderr)
        if not samples:
            continue
        samples.sort()
        p90 = samples[min(len(samples) - 1, int(len(samples) * 0.9))]
        print(f"| {name:<44} | {duration:6.2f} | {statistics.median(samples):9.1f} | {p90:7.1f} | {samples[-1]:7.1f} | {sum(s > 100 for s in samples):7d} |", flush=True)
finally:
    if serve is not None:
        serve.terminate()
        serve.wait()
sys.exit(1 if failed else 0)
PY
