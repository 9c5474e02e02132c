#!/usr/bin/env python3
"""`make crash`: SIGKILL loop over the writers of one block store.

Each round starts one of `cairn add`, `cairn car import`, `cairn gc` (forced to compact) or
`cairn pin add`/`pin rm` on the same store, kills it with SIGKILL at a seeded random moment,
then checks the invariants of spec/blockstore.md:

  1. `cairn store verify` passes;
  2. every root acknowledged before the kill (an `added` line of `add`, the `pinned` roots of
     `car import`, from this or any earlier round) is still readable: `cairn cat` gives its
     file's bytes, every block verified on the way;
  3. no temporary file survives the next writer: after a tiny `block put`, the packs directory
     holds only pack files, each listed in the index at exactly its committed size, and no
     `*.tmp` or `gc-mark*` file is left in the store.

A kill counts as mid-write when the store's files had changed since the command started (a pack
grew or appeared, the WAL was written, a mark database exists) or the command had printed.
The first round of each command runs uninterrupted and measures when it first writes and how
long it then runs until it ends (its write window). A later round is killed either (one round
in EARLY_SHARE, drawn from the seed) at a moment uniform between 0.8 × and 1 × the measured first
write, counted from its start, so kills just before or at the first write are tested too; or,
otherwise, at a moment uniform within the first 90 % of the measured write window counted from
the moment this round's own first write is seen. So the share of kills that land mid-write does
not depend on the machine's speed or load (a fixed time from the start did: under load, 8 of 20
once). Rounds whose command finished before its kill moment are not counted as kills.

Usage: crash-loop.py --cairn BIN [--kills 200] [--seed N] [--json] [--quiet] [--keep]
"""
import argparse, json, os, random, shutil, signal, sqlite3, subprocess, sys, tempfile, time

COMMANDS = ["add", "car-import", "gc", "pin"]
WEIGHTS = [3, 3, 2, 2]
EARLY_SHARE = 0.2


SPLITMIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "splitmix.py")


class Loop:
    def __init__(self, args):
        self.args = args
        self.cairn = os.path.abspath(args.cairn)
        self.rng = random.Random(args.seed)
        self.work = tempfile.mkdtemp(prefix="cairn-crash-")
        self.store = os.path.join(self.work, "store")
        self.acknowledged = {}  # root → path of the file whose bytes it must give
        self.scratch = []       # unpinned roots that pin add/rm and gc play with
        self.duration = {}      # command → (seconds to its first write, seconds to its end), measured once
        self.kills = {c: 0 for c in COMMANDS}
        self.mid_write = {c: 0 for c in COMMANDS}
        self.finished_early = 0
        self.failures = []
        self.counter = 0

    # -- helpers -----------------------------------------------------------------------------

    def run(self, *argv, check=True):
        result = subprocess.run([self.cairn, *argv, "--store", self.store], capture_output=True)
        if check and result.returncode != 0:
            raise RuntimeError(f"cairn {' '.join(argv)} failed: {result.stderr.decode(errors='replace').strip()}")
        return result

    def new_file(self, size):
        self.counter += 1
        path = os.path.join(self.work, f"in{self.counter}")
        subprocess.run([sys.executable, SPLITMIX, str(self.rng.getrandbits(63)), str(size), path], check=True)
        return path

    def snapshot(self):
        """What a writer changes: pack names and sizes, the WAL's size and mtime, mark files."""
        state = []
        for folder in [self.store, os.path.join(self.store, "packs")]:
            try:
                names = sorted(os.listdir(folder))
            except FileNotFoundError:
                continue
            for name in names:
                if name.endswith(".pack") or name.endswith("-wal") or name.startswith("gc-mark") or name.endswith(".tmp"):
                    try:
                        st = os.stat(os.path.join(folder, name))
                    except FileNotFoundError:
                        continue
                    state.append((name, st.st_size, st.st_mtime_ns))
        return state

    # -- the killed commands -----------------------------------------------------------------

    def prepare(self, command):
        """Argument list of the next killed command, and how to read what it acknowledged."""
        if command == "add":
            files = [self.new_file(self.rng.randrange(300_000, 700_000)) for _ in range(2)]
            argv = ["add", "--chunker", "size-2048", "--pin-name", f"add{self.counter}", *files]
            return argv, lambda out: self.parse_added(out, files)
        if command == "car-import":
            source = self.new_file(self.rng.randrange(300_000, 700_000))
            car = source + ".car"
            self.run_plain("add", "-Q", "--chunker", "size-2048", "--car", car, source)
            return ["car", "import", "--pin-name", f"car{self.counter}", car], lambda out: self.parse_imported(out, source)
        if command == "gc":
            # Fresh garbage, and an unpinned scratch root, so the gc has packs to compact.
            junk = self.new_file(200_000)
            self.scratch.append(self.run("add", "--pin=false", "-Q", "--chunker", "size-2048", junk).stdout.decode().strip())
            if len(self.scratch) > 1:
                self.run("pin", "rm", self.scratch.pop(0), check=False)
            return ["gc", "--compact-threshold", "1"], lambda out: None
        junk = self.new_file(100_000)
        root = self.run("add", "--pin=false", "-Q", "--chunker", "size-2048", junk).stdout.decode().strip()
        self.scratch.append(root)
        if self.rng.random() < 0.5:
            return ["pin", "add", "--name", f"scratch{self.counter}", root], lambda out: None
        self.run("pin", "add", root)
        return ["pin", "rm", root], lambda out: None

    def run_plain(self, *argv):
        result = subprocess.run([self.cairn, *argv], capture_output=True)
        if result.returncode != 0:
            raise RuntimeError(f"cairn {' '.join(argv)} failed: {result.stderr.decode(errors='replace').strip()}")

    def parse_added(self, out, files):
        for line in out.splitlines():
            fields = line.split(" ")
            if len(fields) == 3 and fields[0] == "added":
                match = [f for f in files if os.path.basename(f) == fields[2] or f == fields[2]]
                if match:
                    self.acknowledged[fields[1]] = match[0]

    def parse_imported(self, out, source):
        for line in out.splitlines():
            if line.startswith("imported ") and ", pinned " in line:
                for root in line.split(", pinned ", 1)[1].split():
                    self.acknowledged[root] = source

    # -- one round ---------------------------------------------------------------------------

    def round(self, command):
        argv, acknowledge = self.prepare(command)
        before = self.snapshot()
        start = time.monotonic()
        process = subprocess.Popen([self.cairn, *argv, "--store", self.store],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        os.set_blocking(process.stdout.fileno(), False)
        printed = b""
        calibrating = command not in self.duration
        if calibrating:
            # A first, uninterrupted run of each kind of command measures how long it runs and
            # when it first writes; later kills land between shortly before that and the end.
            first_write = None
            while process.poll() is None:
                time.sleep(0.002)
                printed += process.stdout.read() or b""
                if first_write is None and (printed or self.snapshot() != before):
                    first_write = time.monotonic() - start
            duration = time.monotonic() - start
            self.duration[command] = (first_write if first_write is not None else 0.0, duration)
            delay = duration
        else:
            first_write, typical = self.duration[command]
            if self.rng.random() < EARLY_SHARE:
                delay = self.rng.uniform(0.8 * first_write, first_write)
            else:
                # Anchored on this round's own first write: wait for it, then kill within the
                # first 90 % of the write window measured on the uninterrupted run.
                after = self.rng.uniform(0, 0.9 * max(0.0, typical - first_write))
                while process.poll() is None and not printed and self.snapshot() == before:
                    time.sleep(0.001)
                    printed += process.stdout.read() or b""
                delay = time.monotonic() - start + after
        deadline = start + delay
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(min(0.002, max(0, deadline - time.monotonic())))
            printed += process.stdout.read() or b""
        if process.poll() is not None:
            printed += process.stdout.read() or b""
            process.stdout.close()
            acknowledge(printed.decode(errors="replace"))
            if not calibrating:
                self.finished_early += 1
            return False
        wrote = self.snapshot() != before or bool(printed)
        process.send_signal(signal.SIGKILL)
        process.wait()
        os.set_blocking(process.stdout.fileno(), True)
        printed += process.stdout.read() or b""
        process.stdout.close()
        acknowledge(printed.decode(errors="replace"))
        self.kills[command] += 1
        self.mid_write[command] += 1 if wrote else 0
        problems = self.check()
        kills = sum(self.kills.values())
        if problems:
            self.failures += [f"kill {kills} ({command} after {delay:.3f}s): {p}" for p in problems]
        if not self.args.quiet:
            status = "ok" if not problems else "FAILED: " + "; ".join(problems)
            print(f"kill {kills:4d} {command:<10} at {delay:6.3f}s {'mid-write' if wrote else 'before any write':<16} "
                  f"{len(self.acknowledged):4d} roots {status}", flush=True)
        return True

    # -- invariants --------------------------------------------------------------------------

    def check(self):
        problems = []
        verify = self.run("store", "verify", check=False)
        if verify.returncode != 0:
            problems.append("store verify failed: " + (verify.stdout + verify.stderr).decode(errors="replace").strip()[-300:])
        for root, path in self.acknowledged.items():
            cat = self.run("cat", root, check=False)
            with open(path, "rb") as f:
                expected = f.read()
            if cat.returncode != 0 or cat.stdout != expected:
                problems.append(f"acknowledged root {root} unreadable: {cat.stderr.decode(errors='replace').strip()}")
        # The next writer recovers; after it, nothing temporary may be left.
        tiny = self.new_file(64)
        put = self.run("block", "put", tiny, check=False)
        if put.returncode != 0:
            problems.append("block put after the kill failed: " + put.stderr.decode(errors="replace").strip())
        problems += self.leftovers()
        return problems

    def leftovers(self):
        problems = []
        packs = os.path.join(self.store, "packs")
        db = sqlite3.connect(f"file:{os.path.join(self.store, 'index.sqlite')}?mode=ro", uri=True)
        try:
            committed = {f"{pack_id:08d}.pack": size for pack_id, size in db.execute("SELECT id, size FROM packs")}
        finally:
            db.close()
        for name in os.listdir(packs):
            size = os.path.getsize(os.path.join(packs, name))
            if name not in committed:
                problems.append(f"leftover file packs/{name} ({size} bytes) not in the index")
            elif size != committed[name]:
                problems.append(f"packs/{name} has {size} bytes, the index committed {committed[name]}")
        for folder, _, names in os.walk(self.store):
            for name in names:
                if name.endswith(".tmp") or name.startswith("gc-mark"):
                    problems.append(f"leftover temporary file {os.path.relpath(os.path.join(folder, name), self.store)}")
        return problems

    # -- the loop ----------------------------------------------------------------------------

    def main(self):
        started = time.monotonic()
        try:
            rounds = 0
            while sum(self.kills.values()) < self.args.kills and rounds < 20 * self.args.kills:
                rounds += 1
                # Every kind of writer is killed at least once (under load a seeded draw alone
                # can miss one): commands not killed yet go first, then the weighted draw.
                unkilled = [c for c in COMMANDS if self.kills[c] == 0]
                if unkilled and self.args.kills >= len(COMMANDS):
                    self.round(unkilled[0])
                else:
                    self.round(self.rng.choices(COMMANDS, WEIGHTS)[0])
            # A final uninterrupted gc keeps every acknowledged root.
            self.run("gc")
            problems = self.check()
            self.failures += [f"after the final gc: {p}" for p in problems]
        finally:
            if not self.args.keep:
                shutil.rmtree(self.work, ignore_errors=True)
        kills = sum(self.kills.values())
        summary = {
            "seed": self.args.seed, "kills": kills, "killsPerCommand": self.kills,
            "midWrite": sum(self.mid_write.values()), "midWritePerCommand": self.mid_write,
            "finishedBeforeKill": self.finished_early, "acknowledgedRoots": len(self.acknowledged),
            "invariantFailures": len(self.failures), "failures": self.failures[:20],
            "seconds": round(time.monotonic() - started, 1),
        }
        if self.args.json:
            print(json.dumps(summary))
        else:
            print(f"seed {summary['seed']}: {kills} kills in {summary['seconds']} s")
            for command in COMMANDS:
                print(f"  {command:<10} {self.kills[command]:4d} kills, {self.mid_write[command]:4d} mid-write")
            print(f"  {self.finished_early} rounds finished before their kill moment (not counted)")
            print(f"  {len(self.acknowledged)} acknowledged roots, {len(self.failures)} invariant failures")
            for failure in self.failures[:20]:
                print("  " + failure)
        return 0 if not self.failures else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cairn", default=".build/release/cairn")
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    parser.add_argument("--quiet", action="store_true", help="no line per kill")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(2**32)
    if not args.json:
        print(f"crash loop: seed {args.seed} (rerun with --seed {args.seed}), {args.kills} kills", flush=True)
    if not os.access(args.cairn, os.X_OK):
        print(f"Error: no cairn binary at {args.cairn}", file=sys.stderr)
        return 1
    # Interrupted (Ctrl-C, SIGTERM): still remove the work directory.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    return Loop(args).main()


if __name__ == "__main__":
    sys.exit(main())
