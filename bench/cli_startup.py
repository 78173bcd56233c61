"""CLI start-up: wall time of ``siamkit --help``, ``siamkit verify --help`` and ``siamkit
--version`` against the 0.5 s limit, measured side by side in one run; plus what the process
imported (torch must not be among them).

Each command runs ``--repeats`` times as a fresh process (the console script of the current
environment); the table gives the median, the slowest run and median / limit. A bare
``python -c pass`` is timed beside them as the floor that no command can go under.

    python bench/cli_startup.py                 # 15 runs each; run it alone on the machine
    python bench/cli_startup.py --repeats 3 --results /tmp/s.jsonl   # a quick look

Results: one JSON line per command in bench/results/cli-startup.jsonl (``--results``) and a
markdown table on stdout (also written beside the results as ``.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_S = 0.5
COMMANDS = {
    "python -c pass (floor)": [sys.executable, "-c", "pass"],
    "siamkit --help": ["siamkit", "--help"],
    "siamkit verify --help": ["siamkit", "verify", "--help"],
    "siamkit --version": ["siamkit", "--version"],
}
TORCH_PROBE = (
    "import sys; sys.argv = ['siamkit', 'verify', '--help']\n"
    "from siamkit.cli.main import main\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "print('torch' in sys.modules, file=sys.stderr)"
)


def _script(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def time_command(argv: list[str], repeats: int) -> list[float]:
    """Wall seconds of ``repeats`` fresh runs (after one unmeasured run to warm the disk cache)."""
    if argv[0] == "siamkit":
        argv = [_script("siamkit"), *argv[1:]]
    subprocess.run(argv, capture_output=True, check=True)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        f"| command | median s | slowest s | median / {LIMIT_S} s limit |",
        "|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['command']}` | {r['median_s']:.3f} | {r['max_s']:.3f} | "
            f"{r['ratio_to_limit']:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--repeats", type=int, default=15, help="Runs per command.")
    p.add_argument("--results", type=Path, default=ROOT / "bench/results/cli-startup.jsonl")
    args = p.parse_args(argv)
    rows: list[dict[str, object]] = []
    for name, command in COMMANDS.items():
        times = time_command(command, args.repeats)
        median = statistics.median(times)
        rows.append({"command": name, "median_s": median, "max_s": max(times),
                     "ratio_to_limit": median / LIMIT_S, "repeats": args.repeats})  # fmt: skip
    probe = subprocess.run([sys.executable, "-c", TORCH_PROBE], capture_output=True, text=True)
    torch_imported = probe.stderr.strip().splitlines()[-1] == "True"
    meta = {"python": platform.python_version(), "machine": platform.machine(),
            "time": time.strftime("%Y-%m-%d %H:%M:%S"), "load_avg_1min": os.getloadavg()[0],
            "verify_help_imports_torch": torch_imported}  # fmt: skip
    args.results.parent.mkdir(parents=True, exist_ok=True)
    with args.results.open("w") as f:
        for r in rows:
            f.write(json.dumps({**r, **meta}) + "\n")
    md = table(rows) + f"\n\n`verify --help` imports torch: {torch_imported}"
    args.results.with_suffix(".md").write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
