#!/usr/bin/env python3
"""Time real Kubo (v0.22, the kubo-python library) adding a file into its own repo, blocks stored
(AddFile with only-hash off), for the side-by-side table of Benchmarks/store/compare.sh.

usage: kubo_add.py FILE      prints "<seconds> <cid>"; runs itself in an empty network namespace.
"""
import ctypes, glob, json, os, shutil, site, subprocess, sys, tempfile, time

MARK = "CAIRN_KUBO_ADD_ISOLATED"


def library():
    for root in site.getsitepackages() + [site.getusersitepackages()]:
        hits = glob.glob(os.path.join(root, "**", "libkubo_linux_x86_64.so"), recursive=True)
        if hits:
            return hits[0]
    sys.exit("kubo_add: libkubo not found (pip install kubo-python into this interpreter)")


def main():
    path = os.path.abspath(sys.argv[1])
    if os.environ.get(MARK) != "1":
        done = subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__), path],
                              env=dict(os.environ, **{MARK: "1"}))
        sys.exit(done.returncode)
    lib = ctypes.CDLL(library())
    lib.AddFile.restype = ctypes.c_void_p
    lib.AddFile.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_bool]
    lib.FreeString.argtypes = [ctypes.c_void_p]
    work = tempfile.mkdtemp(prefix="kubo-add-")
    try:
        repo = os.path.join(work, "repo")
        os.makedirs(repo)
        if lib.CreateRepo(repo.encode()) < 0:
            sys.exit("kubo_add: could not create a repo")
        config_path = os.path.join(repo, "config")
        with open(config_path) as f:
            config = json.load(f)
        config["Bootstrap"] = []
        config["Addresses"]["Swarm"] = []
        config.setdefault("Discovery", {}).setdefault("MDNS", {})["Enabled"] = False
        config.setdefault("Routing", {})["Type"] = "none"
        with open(config_path, "w") as f:
            json.dump(config, f)
        os.chdir(work)
        start = time.perf_counter()
        raw = lib.AddFile(repo.encode(), path.encode(), False)
        seconds = time.perf_counter() - start
        cid = ctypes.string_at(raw).decode() if raw else ""
        if raw:
            lib.FreeString(raw)
        print(f"{seconds:.3f} {cid}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
