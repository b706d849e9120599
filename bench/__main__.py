"""`python -m bench` lists the benchmarks; `python -m bench <name> [args...]` runs one (name without `bench_`)."""

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
names = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
if len(sys.argv) < 2 or sys.argv[1] not in names:
    print("benchmarks:", *names, sep="\n  ")
    print("run one: python -m bench <name> [args...]")
    sys.exit(0 if len(sys.argv) < 2 else 2)
sys.argv = [str(HERE / f"bench_{sys.argv[1]}.py"), *sys.argv[2:]]
runpy.run_path(sys.argv[0], run_name="__main__")
