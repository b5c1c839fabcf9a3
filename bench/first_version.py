"""Comments/s of the first version (its own code and artifact, from git) against today's, in the same run.

The model issue's speed bar is "no lower than the first version's". This machine's speed varies from day to
day by more than 3x (README, Benchmarks), so the bar only means something measured in one run on one workload:
the first version is checked out into a temporary git worktree, and each scorer is timed in a process of its
own with its tree first on the import path, on `bench/workload.py`'s corpus, in alternating rounds (medians
printed). Today's scorer runs in its default precision, in fp32 (the only one the first version had) and, where
torch has int8 kernels for this CPU (AVX512-VNNI), in int8, the default on such CPUs without native bf16.

`--isa avx2` measures as on a CPU with AVX2 only, where `auto` takes fp32 and one comment at a time was slowest
against the first version: every scorer's process runs with torch's, MKL's and oneDNN's kernels capped at AVX2
(ATEN_CPU_CAPABILITY, MKL_ENABLE_INSTRUCTIONS, ONEDNN_MAX_CPU_ISA), and today's scorer in fp32 only. On a Xeon
with AMX it put v19 at 0.80x the first version one at a time, where an AMD EPYC with AVX2 only had measured 0.88x.
Last line: key=value pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIRST_ARTIFACT = "models/artifacts/v1/config.json"
# Kernel caps that make this CPU compute as an AVX2-only one does (no AVX-512, VNNI, bf16 or AMX).
AVX2_ONLY = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def first_commit() -> str:
    """The commit that added the first artifact: the first version's code and weights together."""
    out = subprocess.run(
        ["git", "-C", str(REPO), "log", "--diff-filter=A", "--format=%H", "--", FIRST_ARTIFACT],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    if not out:
        raise SystemExit(f"no commit adds {FIRST_ARTIFACT}: this needs the project's git history")
    return out[-1]


def child(tree: str, precision: str | None, seconds: float) -> None:
    """Time the scorer of `tree` and print one JSON line; runs in its own process."""
    import warnings

    warnings.simplefilter("ignore")
    sys.path[:0] = [tree, str(Path(__file__).resolve().parent)]
    from workload import corpus, rate

    import models

    scorer = models.load(precision=precision) if precision else models.load()
    texts = corpus(1024)
    encoder_precision = getattr(scorer.encoder, "precision", "fp32")  # the first version had no other
    rates = {batch: rate(scorer.score, texts, batch, seconds) for batch in (1, 32)}
    print(
        json.dumps(
            {"version": scorer.version, "precision": encoder_precision, "batch1": rates[1], "batch32": rates[32]}
        )
    )


def timed(tree: Path, precision: str | None, seconds: float, env: dict[str, str]) -> dict:
    command = [sys.executable, __file__, "--child", str(tree), "--seconds", str(seconds)]
    if precision:
        command += ["--precision", precision]
    run = subprocess.run(command, check=True, capture_output=True, text=True, cwd=tree, env=env)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="time per measurement")
    parser.add_argument("--isa", choices=["native", "avx2"], default="native", help="cap the kernels at AVX2")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--precision", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.precision, args.seconds)
        return

    commit = first_commit()
    sys.path.insert(0, str(REPO))
    from models.encoder import cpu_has_int8_kernels

    avx2_only = args.isa == "avx2"
    env = os.environ | (AVX2_ONLY if avx2_only else {})
    # Without them torch's int8 product is a plain loop that auto never picks: not worth timing.
    int8_kernels = cpu_has_int8_kernels() and not avx2_only
    runs: dict[str, list[dict]] = (
        {"first": [], "today": []}
        | ({} if avx2_only else {"today_fp32": []})
        | ({"today_int8": []} if int8_kernels else {})
    )
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "first"
        git_worktree = ["git", "-C", str(REPO), "worktree"]
        subprocess.run([*git_worktree, "add", "--detach", str(tree), commit], check=True, capture_output=True)
        # With AVX2 only, auto takes fp32; it reads the CPU's flags, which the caps above do not change.
        scorers = [("first", tree, None), ("today", REPO, "fp32" if avx2_only else None)]
        if not avx2_only:
            scorers.append(("today_fp32", REPO, "fp32"))
        if int8_kernels:
            scorers.append(("today_int8", REPO, "int8"))
        try:
            for round_ in range(args.rounds):
                for name, where, precision in scorers:
                    result = timed(where, precision, args.seconds, env)
                    runs[name].append(result)
                    print(
                        f"round {round_ + 1} {name:>10}: {result['version']} ({result['precision']}) "
                        f"batch 1 {result['batch1']:6.1f}/s  batch 32 {result['batch32']:6.1f}/s",
                        flush=True,
                    )
        finally:
            subprocess.run([*git_worktree, "remove", "--force", str(tree)], check=False)
    medians = {
        f"{name}_{batch}": statistics.median(r[batch] for r in results)
        for name, results in runs.items()
        for batch in ("batch1", "batch32")
    }
    capped = ", kernels capped at AVX2" if avx2_only else ""
    print(f"first version: commit {commit[:7]}, medians of {args.rounds} rounds{capped}")
    print(" ".join(f"{key}={value:.1f}" for key, value in medians.items()))


if __name__ == "__main__":
    main()
