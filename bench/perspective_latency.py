"""Latency of the Perspective-compatible endpoint through the whole stack: `civility up` (gunicorn, Redis,
one worker), as Coral Talk calls it. Prints p50/p95/max over sequential requests."""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from service.embedded_redis import free_port

COMMENTS = [
    "Thanks for the careful reporting on the council vote.",
    "You are a pathetic idiot and nobody wants to read your garbage.",
    "I disagree with the mayor; the budget cuts will hurt the schools on the east side most.",
    "Great article! Visit my site for cheap watches http://bit.ly/watches",
    "The park looks lovely, but the overspend needs an independent review before the next budget.",
]


def post(url: str, body: dict) -> float:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        json.loads(response.read())
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--spans", action="store_true", help="ask for spanAnnotations too")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        env["CIVILITY_DATA_DIR"] = data_dir
        up = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "up", "--port", str(port)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            key = ""
            while not key:
                line = up.stdout.readline() if up.stdout else ""
                if not line:
                    raise SystemExit("civility up exited")
                key = line.strip() if line.strip().startswith("cvl_") else ""
            url = f"http://127.0.0.1:{port}/v1alpha1/comments:analyze?key={key}"
            body = {"languages": ["en"], "doNotStore": True, "requestedAttributes": {"TOXICITY": {}}}
            body["spanAnnotations"] = args.spans
            deadline = time.monotonic() + 120
            while True:  # until the API is up and the worker has loaded the model
                try:
                    post(url, body | {"comment": {"text": "warm up"}})
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            times = [post(url, body | {"comment": {"text": COMMENTS[i % len(COMMENTS)]}}) for i in range(args.requests)]
        finally:
            up.send_signal(signal.SIGTERM)
            up.wait(60)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"comments:analyze, {args.requests} sequential requests, spanAnnotations={args.spans}")
    print(f"p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms, max {times[-1]:.0f} ms")


if __name__ == "__main__":
    main()
