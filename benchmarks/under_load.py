"""The two commands under load: wall time idle, and beside a competing job.

A plain script: settings at the top, one result line per measurement,
results in benchmarks/results/under_load.{json,md}. It measures and prints;
each ratio carries its target and whether it is met, nothing is asserted.

    python benchmarks/under_load.py                   # both jobs (several minutes)
    python benchmarks/under_load.py --jobs main       # one of them
    python benchmarks/under_load.py --quick --out /tmp/skae-under-load   # smoke run (< 1 min)

The jobs are the Makefile's two commands, run with this Python
(``sys.executable``) from the repository root, without ``make``'s set-up:

- ``main``: ``python benchmarks/compare_pca.py`` (``make main``), with
  ``--out`` a temporary folder so that the tracked results are not rewritten;
- ``test``: ``python -m pytest -q`` (``make test``).

Each job runs first on the idle machine (every job's idle run comes before
any load is started; a warning is printed if the 1-minute load average
shows the machine busy), then beside each competing load, which this script
starts, waits for, and kills once the job ends:

- ``skae``: a loop of ``AutoencoderTransformer`` fits on digits in another
  Python process, with torch's default thread count;
- ``matmul``: a loop of 1000 x 1000 NumPy matrix products, with the BLAS's
  default (multi-threaded) thread count.

A load stops itself after a deadline even if this script dies (and when its
parent process is gone). The ratio loaded / idle of each job's wall time is
the measure: on 2 cores a fair share is 2, the target 2.5.
"""

import argparse
import json
import os
import platform
import queue
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- settings
JOBS = {
    # make main: $(PY) benchmarks/compare_pca.py ("{out}": a temporary folder)
    "main": ["benchmarks/compare_pca.py", "--out", "{out}"],
    # make test: $(PY) -m pytest
    "test": ["-m", "pytest", "-q"],
}
# --quick: one short, fixed skae fit instead of the jobs.
QUICK_JOB = [
    "-c",
    "from sklearn.datasets import load_digits\n"
    "from skae import AutoencoderTransformer\n"
    "AutoencoderTransformer(n_components=8, max_iter=10, tol=0.0, random_state=0)"
    ".fit(load_digits().data / 16)\n",
]
TARGET_RATIO = 2.5  # loaded / idle wall time; a fair share of 2 cores is 2
IDLE_LOADAVG = 0.5  # 1-minute load average above which the machine is not idle
# A load's own deadline: LOAD_FACTOR x the job's idle time + LOAD_SLACK seconds
# (past TARGET_RATIO, so that it outlives any job that meets the target).
LOAD_FACTOR = 6
LOAD_SLACK = 60
LOAD_READY_TIMEOUT = 120  # seconds to wait for a load to start computing
JOB_TIMEOUT = 3600  # seconds; a job running longer is killed and marked
# Thread settings removed from a load's environment, so that it runs with
# its libraries' default (multi-threaded) thread counts.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
RESULTS = ROOT / "benchmarks" / "results"

# The loads: each prints "ready ..." once computing, stops itself at its
# deadline (argv[1], seconds) or when its parent is gone, and on SIGTERM
# prints what it did before exiting.
_LOAD_PROLOGUE = """
import os, signal, sys, time
deadline = time.monotonic() + float(sys.argv[1])
parent = os.getppid()
def _stop(signum, frame):
    raise SystemExit(0)
signal.signal(signal.SIGTERM, _stop)
def running():
    return time.monotonic() < deadline and os.getppid() == parent
"""
LOADS = {
    "skae": _LOAD_PROLOGUE
    + """
import torch
from sklearn.datasets import load_digits
from skae import AutoencoderTransformer
X = load_digits().data / 16
n = 0
print(f"ready: skae fits, torch threads {torch.get_num_threads()}", flush=True)
try:
    while running():
        AutoencoderTransformer(n_components=8, max_iter=20, tol=0.0, random_state=n).fit(X)
        n += 1
finally:
    print(f"done: {n} fits, {time.process_time():.1f} CPU s", flush=True)
""",
    "matmul": _LOAD_PROLOGUE
    + """
import numpy as np
from threadpoolctl import threadpool_info
a, b = np.random.default_rng(0).standard_normal((2, 1000, 1000))
threads = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
n = 0
print(f"ready: 1000x1000 matmuls, BLAS threads {threads}", flush=True)
try:
    while running():
        a @ b
        n += 1
finally:
    print(f"done: {n} matmuls, {time.process_time():.1f} CPU s", flush=True)
""",
}


# ------------------------------------------------------------------ helpers
def loadavg():
    return [round(x, 2) for x in os.getloadavg()]


class Load:
    """A competing process: started, waited for until it computes, stopped."""

    def __init__(self, name, max_seconds):
        env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
        self.name, self.max_seconds, self.lines = name, max_seconds, []
        self.process = subprocess.Popen(
            [sys.executable, "-c", LOADS[name], str(max_seconds)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._ready = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            if line.startswith("ready"):
                self._ready.put(line.strip())
        self._ready.put(None)  # ended

    def wait_ready(self, timeout=LOAD_READY_TIMEOUT):
        """Wait until the load computes; its "ready" line."""
        try:
            line = self._ready.get(timeout=timeout)
        except queue.Empty:
            line = None
        if line is None:
            self.stop()
            raise RuntimeError(f"load {self.name} did not start: {self.lines[-5:]}")
        return line

    def alive(self):
        """Whether the load is still running."""
        return self.process.poll() is None

    def stop(self):
        """SIGTERM (then SIGKILL); the load's last line, what it did."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        time.sleep(0.2)  # let the reader take the last line
        return self.lines[-1] if self.lines else ""


def run_job(command, log_path):
    """Wall and CPU seconds of one job; its output goes to log_path."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    tic = time.perf_counter()
    with open(log_path, "w") as log:
        try:
            rc = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                timeout=JOB_TIMEOUT).returncode  # fmt: skip
        except subprocess.TimeoutExpired:
            rc = "timeout"
    wall = time.perf_counter() - tic
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the load is not reaped yet
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    lines = [line for line in Path(log_path).read_text().splitlines() if line.strip()]
    return {"wall_seconds": wall, "cpu_seconds": cpu, "rc": rc,
            "last_line": lines[-1] if lines else ""}  # fmt: skip


def measure(job, command, load_name, idle_seconds, tmp):
    """One run of a job: on the idle machine (load_name None) or beside a load."""
    out = Path(tempfile.mkdtemp(prefix=f"{job}_{load_name or 'idle'}_", dir=tmp))
    command = [sys.executable] + [arg.replace("{out}", str(out)) for arg in command]
    result = {"job": job, "load": load_name, "loadavg_before": loadavg()}
    load = None
    try:
        if load_name is not None:
            max_seconds = LOAD_FACTOR * idle_seconds + LOAD_SLACK
            load = Load(load_name, max_seconds)
            result["load_started"] = load.wait_ready()
            result["load_max_seconds"] = max_seconds
        result.update(run_job(command, out / "job.log"))
        if load is not None:
            result["load_outlived_job"] = load.alive()
    finally:
        if load is not None:
            result["load_stopped"] = load.stop()
    return result


def describe(result):
    where = "idle" if result["load"] is None else f"beside {result['load']} load"
    text = (
        f"{result['job']}, {where}: {result['wall_seconds']:.1f} s wall, "
        f"{result['cpu_seconds']:.1f} s CPU, rc {result['rc']}, "
        f"load average before {result['loadavg_before']}"
    )
    if result["load"] is not None:
        text += f"; load {result['load_stopped']!r}"
        if not result["load_outlived_job"]:
            text += " (the load ended before the job: ratio understated)"
    return text


def markdown(jobs, runs, ratios, context):
    lines = [
        "# The commands under load",
        "",
        f"{context['machine']}; Python `{context['python']}`. Wall seconds of each job, "
        "idle and beside each competing load; ratio = loaded / idle "
        f"(target <= {TARGET_RATIO}).",
        "",
        "| job | idle s | beside skae fits s | ratio | met | beside matmuls s | ratio | met |",
        "|---|---:|---:|---:|---|---:|---:|---|",
    ]
    for job in jobs:
        cells = [job, f"{runs[(job, None)]['wall_seconds']:.1f}"]
        for load in LOADS:
            r = ratios[job][load]
            cells += [f"{runs[(job, load)]['wall_seconds']:.1f}", f"{r['ratio']:.2f}",
                      "yes" if r["met"] else "**no**"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Runs:", ""] + [f"- {describe(r)}" for r in runs.values()]
    if context["idle_warnings"]:
        lines += ["", "Warnings:", ""] + [f"- {w}" for w in context["idle_warnings"]]
    lines += [
        "",
        f"Load average (1, 5, 15 min): start {context['loadavg_start']}, "
        f"end {context['loadavg_end']}. Total {context['seconds']:.0f} s.",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="main,test", help="comma-separated: main,test")
    parser.add_argument("--quick", action="store_true", help="smoke run: a short skae fit")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    if args.quick:
        jobs = {"quick": QUICK_JOB}
    else:
        names = [name for name in args.jobs.split(",") if name]
        unknown = set(names) - set(JOBS)
        if unknown:
            parser.error(f"unknown job(s) {sorted(unknown)}; choose from {list(JOBS)}")
        jobs = {name: JOBS[name] for name in names}
    loadavg_start = loadavg()
    started = time.perf_counter()
    print(
        f"jobs {list(jobs)}; {os.cpu_count()} CPUs; load average {loadavg_start}; "
        f"python {sys.executable}",
        flush=True,
    )
    # Warm-up: the imports from disk, outside every timer.
    subprocess.run([sys.executable, "-c", "import numpy, sklearn, torch, skae"], cwd=ROOT,
                   check=True)  # fmt: skip

    runs, idle_warnings = {}, []
    with tempfile.TemporaryDirectory(prefix="skae_under_load_") as tmp:
        for job, command in jobs.items():  # every idle run before any load
            before = loadavg()
            if before[0] > IDLE_LOADAVG:
                warning = (
                    f"the machine is not idle before {job}'s idle run: 1-minute load "
                    f"average {before[0]} > {IDLE_LOADAVG} (the idle time is inflated "
                    "and the ratios understated)"
                )
                idle_warnings.append(warning)
                print(f"WARNING: {warning}", flush=True)
            runs[(job, None)] = measure(job, command, None, None, tmp)
            print(describe(runs[(job, None)]), flush=True)
        ratios = {job: {} for job in jobs}
        for load in LOADS:
            for job, command in jobs.items():
                idle = runs[(job, None)]["wall_seconds"]
                result = measure(job, command, load, idle, tmp)
                runs[(job, load)] = result
                ratio = result["wall_seconds"] / idle
                met = ratio <= TARGET_RATIO
                ratios[job][load] = {"ratio": ratio, "met": met}
                print(
                    f"{describe(result)}\n  {job} beside {load} load / idle = {ratio:.2f}  "
                    f"[target <= {TARGET_RATIO}: {'met' if met else 'NOT met'}]",
                    flush=True,
                )

    command = "python benchmarks/under_load.py " + " ".join(
        map(shlex.quote, sys.argv[1:] if argv is None else argv)
    )
    context = {
        "jobs": {job: " ".join(["python", *cmd]) for job, cmd in jobs.items()},
        "loads": list(LOADS),
        "quick": args.quick,
        "python": sys.executable,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "loadavg_start": loadavg_start,
        "loadavg_end": loadavg(),
        "idle_warnings": idle_warnings,
        "seconds": time.perf_counter() - started,
        "command": command.strip(),
    }
    text = markdown(jobs, runs, ratios, context) + f"\nReproduce: `{command.strip()}`\n"
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "under_load" + ("_quick" if args.quick else "")
    (args.out / f"{stem}.md").write_text(text)
    (args.out / f"{stem}.json").write_text(
        json.dumps(
            {
                "context": context,
                "runs": list(runs.values()),
                "ratios": ratios,
                "target_ratio": TARGET_RATIO,
            },  # fmt: skip
            indent=1,
            default=str,
        )
        + "\n"
    )
    print()
    print(text)
    print(f"Wrote {args.out / stem}.{{json,md}}; reproduce with: {command.strip()}")


if __name__ == "__main__":
    main()
