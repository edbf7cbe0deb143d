"""What ``import skae`` costs on top of its dependencies, torch and scikit-learn.

Every skae user imports torch and scikit-learn anyway, so the figure that
is skae's own is ``import skae`` after ``import torch, sklearn.base``
(target <= 0.3 s). Each measure runs in a fresh interpreter, ``N_RUNS``
times, and reports the median (the machines are shared and noisy):

- ``after_baseline``: ``import skae`` timed inside an interpreter that has
  already imported torch and sklearn.base;
- ``skae_process`` and ``baseline_process``: the wall time of
  ``python -c "import skae"`` and of ``python -c "import torch,
  sklearn.base"``, and their difference.

Then one ``python -X importtime`` run lists what ``import skae`` itself
imports after that baseline: skae's own modules (by cumulative time) and
the third-party modules skae pulls in (by self time). matplotlib (for
skae.plotting) and skl2onnx (for skae.onnx) must not be among them: they
are imported only by the modules that need them.

    python benchmarks/import_cost.py             # ~1.5 min
    python benchmarks/import_cost.py --quick     # 3 runs each

It prints ``uptime``'s load first (figures from a busy machine are
labelled); results go to benchmarks/results/import_cost.{json,md}
(``--quick``: ``import_cost_quick.*``), or to the folder ``--out`` names.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
# ---------------------------------------------------------------- settings
N_RUNS = 11
QUICK_RUNS = 3
TOP = 10
BASELINE = "import torch, sklearn.base"
TARGET_S = 0.3
BUSY_LOAD = 0.5  # 1-minute load average above which timings are noisy
# Optional dependencies that ``import skae`` must not import.
OPTIONAL = ("matplotlib", "pandas", "skl2onnx", "onnx", "onnxruntime", "mlflow", "skops")

AFTER_BASELINE = f"""
import sys, time, json
{BASELINE}
before = set(sys.modules)
tic = time.perf_counter()
import skae
seconds = time.perf_counter() - tic
added = sorted(set(sys.modules) - before)
print(json.dumps({{"seconds": seconds, "added": added}}))
"""


def python(code, *flags):
    """Run ``code`` in a fresh interpreter; (wall seconds, stdout, stderr)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    tic = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *flags, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return time.perf_counter() - tic, done.stdout, done.stderr


def import_tree(stderr):
    """The ``-X importtime`` entries of ``import skae``'s tree, after the baseline.

    Entries come in completion order, children first; the top-level entries
    (no indentation) are those the ``-c`` code imported itself. skae's tree
    is everything between the last top-level entry before ``skae`` and it.
    """
    entries = []
    for line in stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or not fields[0].strip().isdigit():
            continue  # other output, or the header line
        self_us, cumulative_us, name = fields
        # " skae": imported by the -c code itself; "   skae._nets": nested.
        entries.append((name.strip(), int(self_us), int(cumulative_us), not name.startswith("  ")))
    end = max(i for i, entry in enumerate(entries) if entry[0] == "skae" and entry[3])
    start = max((i for i in range(end) if entries[i][3]), default=-1) + 1
    return entries[start : end + 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs each")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args()
    n_runs = QUICK_RUNS if args.quick else N_RUNS
    load = os.getloadavg()[0]
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    if load > BUSY_LOAD:
        print(f"warning: load {load:.2f} > {BUSY_LOAD}: timings are noisy")

    python(BASELINE)  # warm the file cache: the first import reads every .py and .so
    after, skae_wall, baseline_wall, added = [], [], [], set()
    for _ in range(n_runs):  # interleaved, so that load changes hit all three alike
        _, out, _ = python(AFTER_BASELINE)
        result = json.loads(out)
        after.append(result["seconds"])
        added.update(result["added"])
        skae_wall.append(python("import skae")[0])
        baseline_wall.append(python(BASELINE)[0])
    median = {
        "after_baseline": statistics.median(after),
        "skae_process": statistics.median(skae_wall),
        "baseline_process": statistics.median(baseline_wall),
    }
    median["process_difference"] = median["skae_process"] - median["baseline_process"]
    optional_imported = sorted({name.split(".")[0] for name in added} & set(OPTIONAL))

    _, _, stderr = python(BASELINE + "; import skae", "-X", "importtime")
    tree = import_tree(stderr)
    own = sorted((e for e in tree if e[0].split(".")[0] == "skae"), key=lambda e: -e[2])
    third = sorted((e for e in tree if e[0].split(".")[0] != "skae"), key=lambda e: -e[1])

    print(f"\nimport skae after `{BASELINE}`, median of {n_runs}: ", end="")
    print(f"{median['after_baseline']:.3f} s (target <= {TARGET_S} s)")
    print(
        f"python -c 'import skae': {median['skae_process']:.3f} s; "
        f"python -c '{BASELINE}': {median['baseline_process']:.3f} s; "
        f"difference {median['process_difference']:.3f} s"
    )
    print(f"optional dependencies imported by skae: {optional_imported or 'none'}")
    print(f"\nskae's modules, by cumulative import time (one -X importtime run, top {TOP}):")
    for name, self_us, cumulative_us, _ in own[:TOP]:
        print(f"  {cumulative_us / 1e3:8.1f} ms cumulative {self_us / 1e3:8.1f} ms self  {name}")
    print(f"third-party modules skae adds, by self time (top {TOP} of {len(third)}):")
    for name, self_us, _, _ in third[:TOP]:
        print(f"  {self_us / 1e3:8.1f} ms self  {name}")

    record = {
        "command": " ".join(["python benchmarks/import_cost.py", *sys.argv[1:]]),
        "load_average_1min": load,
        "n_runs": n_runs,
        "python": sys.version.split()[0],
        "median_seconds": median,
        "runs_after_baseline": after,
        "target_seconds": TARGET_S,
        "optional_dependencies_imported": optional_imported,
        "skae_modules_ms": {name: [s / 1e3, c / 1e3] for name, s, c, _ in own},
        "third_party_self_ms": {name: s / 1e3 for name, s, _, _ in third[:TOP]},
    }
    suffix = "_quick" if args.quick else ""
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"import_cost{suffix}.json").write_text(json.dumps(record, indent=2) + "\n")
    table = [
        f"`{record['command']}` (load {load:.2f}, median of {n_runs} fresh interpreters)",
        "",
        "| measure | seconds |",
        "|---|---|",
        f"| `import skae` after `{BASELINE}` | {median['after_baseline']:.3f} |",
        f"| `python -c 'import skae'` | {median['skae_process']:.3f} |",
        f"| `python -c '{BASELINE}'` | {median['baseline_process']:.3f} |",
        f"| difference | {median['process_difference']:.3f} |",
        "",
    ]
    (args.out / f"import_cost{suffix}.md").write_text("\n".join(table))
    print(f"\nwrote {args.out}/import_cost{suffix}.{{json,md}}; reproduce: {record['command']}")


if __name__ == "__main__":
    main()
