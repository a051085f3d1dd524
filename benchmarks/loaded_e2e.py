"""The end-to-end test, several times in a row, with both cores kept busy by other work.

    .venv/bin/python benchmarks/loaded_e2e.py [--runs 3] [--burners 2]

Starts `--burners` CPU-bound processes (each spins until this script ends, and at most an
hour), then runs `pytest -m e2e jobping_dagster_tests/test_e2e.py` `--runs` times, one after
the other, with the test's own timeouts unchanged. Prints each run's result, time and the
e2e test's summary line; each run's whole output and its processes' logs stay under
`--keep` (run-N.out, run-N/). The last line is JSON. Exits non-zero when any run failed.
"""

import argparse
import json
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BURNER_LIMIT_SECONDS = 3600


def burn(stop_at: float) -> None:
    while time.monotonic() < stop_at:
        sum(range(10_000))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--burners", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=Path("/tmp/jobping-loaded-e2e"))
    args = parser.parse_args()

    args.keep.mkdir(parents=True, exist_ok=True)
    stop_at = time.monotonic() + BURNER_LIMIT_SECONDS
    burners = [
        multiprocessing.Process(target=burn, args=(stop_at,), daemon=True)
        for _ in range(args.burners)
    ]
    for burner in burners:
        burner.start()
    results = []
    try:
        for number in range(1, args.runs + 1):
            started = time.monotonic()
            test = subprocess.run(
                [sys.executable, "-m", "pytest", "-m", "e2e", "-s", "-q", "-p", "no:cacheprovider",
                 f"--basetemp={args.keep / f'run-{number}'}", "jobping_dagster_tests/test_e2e.py"],
                cwd=ROOT, capture_output=True, text=True,
            )  # fmt: skip
            seconds = time.monotonic() - started
            (args.keep / f"run-{number}.out").write_text(test.stdout + test.stderr)
            summary = [line for line in test.stdout.splitlines() if line.startswith("e2e:")]
            passed = test.returncode == 0
            results.append({"run": number, "passed": passed, "seconds": round(seconds)})
            print(f"run {number}: {'passed' if passed else 'FAILED'} in {seconds:.0f} s")
            print("  " + (summary[0] if summary else test.stdout[-3000:]), flush=True)
    finally:
        for burner in burners:
            burner.terminate()
    print(
        json.dumps(
            {
                "burners": args.burners,
                "runs": args.runs,
                "passed": sum(r["passed"] for r in results),
                "seconds": [r["seconds"] for r in results],
            }
        )
    )
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
