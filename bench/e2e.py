"""End to end: `civility up` on loopback under a constant offered rate of POSTs, then its sustained maximum.

For each database (SQLite, the default, and PostgreSQL when reachable) the script starts the all-in-one
service (embedded Redis, API, workers) in a fresh data directory and runs two phases:
  1. offered load: `--rate` comments/s for `--seconds`, open loop (each POST is due at a fixed time and
     its latency counts from then, so a slow server cannot hide behind a slow client);
  2. saturation: `--burst-rate` comments/s for `--burst-seconds`, far above what the machine decides, so
     the decided rate measured over it is the sustained maximum.
The load comes from a separate process. Figures: decided comments/s, API POST latency p50/p99, decision
latency (POST due -> decided) p50/p99, worker RSS, queue depth once a second. Last line: key=value pairs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from redis import Redis
from sqlalchemy import select
from workload import corpus  # bench/ is the script's directory, so its sibling imports as a module

from service.config import normalize_database_url
from service.db import Database
from service.embedded_redis import running_url
from service.tables import PENDING, Comment, Site

TOXIC = [
    "You are a pathetic idiot and nobody wants to read your garbage.",
    "Shut up, you stupid clown. People like you ruin this comment section.",
    "What a moron. Go crawl back under your rock, loser.",
]
SPAM = [
    "Great article! I make $500 a day from home, see how at http://bit.ly/easy-cash-now",
    "Cheap watches and bags, best prices online, visit www.cheap-replica-shop.example today!",
    "WINNER!! Claim your free gift card now, text WIN to 80082",
]


def comment_bodies(count: int, seed: int) -> list[str]:
    """Mostly ordinary comments of realistic length, with 10% abuse and 5% spam, each one unique."""
    rng = random.Random(seed)
    ordinary = corpus(count, seed=seed)
    bodies = []
    for n in range(count):
        roll = rng.random()
        base = rng.choice(TOXIC) if roll < 0.10 else rng.choice(SPAM) if roll < 0.15 else ordinary[n]
        bodies.append(f"{base} #{seed}-{n}")
    return bodies


def offer_load(port: int, key: str, rate: float, seconds: float, seed: int, out: str, threads: int = 48) -> None:
    """Runs in its own process: POST at `rate`/s for `seconds`; writes one JSON line per request."""
    count = int(rate * seconds)
    bodies = comment_bodies(count, seed)
    start = time.time() + 0.5
    lock = threading.Lock()
    next_index = [0]
    results: list[dict] = []

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= count:
                return
            due = start + index / rate
            time.sleep(max(0.0, due - time.time()))
            payload = json.dumps(
                {
                    "article_id": f"article-{index % 20}",
                    "body": bodies[index],
                    "author_name": "Bench Reader",
                    "author_email": f"reader{index}@example.org",
                    "author_ip": f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}",
                }
            )
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            try:
                connection.request("POST", "/v1/comments", payload, headers)
                response = connection.getresponse()
                body = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status, body = 0, b"{}"
            done = time.time()
            comment_id = json.loads(body).get("id") if status == 202 else None
            with lock:
                results.append({"due": due, "done": done, "status": status, "id": comment_id})

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    Path(out).write_text("\n".join(json.dumps(r) for r in results))


@dataclass(eq=False)
class Sampler(threading.Thread):
    """Once a second: the moderation queue's depth and each worker's resident memory."""

    redis_url: str
    depth: list[tuple[float, int]] = field(default_factory=list)
    rss_mb: dict[int, float] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        super().__init__(daemon=True)

    def run(self) -> None:
        redis = Redis.from_url(self.redis_url)
        while not self.stop.wait(1.0):
            self.depth.append((time.time(), int(redis.llen("rq:queue:moderation"))))
            for pid, rss in worker_rss().items():
                self.rss_mb[pid] = max(self.rss_mb.get(pid, 0.0), rss)


def worker_rss() -> dict[int, float]:
    """RSS in MB of every scoring worker process."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            # "civility worker: <state>"; RQ's forked scheduler keeps the bare title and is not counted.
            if not (proc / "cmdline").read_bytes().startswith(b"civility worker:"):
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    found[int(proc.name)] = int(line.split()[1]) / 1024
        except OSError:
            continue
    return found


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Service:
    """`civility up` in a fresh data directory, stopped with SIGTERM."""

    def __init__(self, data_dir: Path, database_url: str | None, port: int, workers: int | None):
        env = dict(os.environ, CIVILITY_DATA_DIR=str(data_dir))
        env.pop("REDIS_URL", None)
        env.pop("DATABASE_URL", None)
        if database_url:
            env["DATABASE_URL"] = database_url
        self.data_dir = data_dir
        self.port = port
        command = [sys.executable, "-m", "service.cli", "up", "--port", str(port)]
        command += ["--workers", str(workers)] if workers else []
        self.log = open(data_dir.parent / "up.log", "w")  # noqa: SIM115 - kept open for the service's life
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=self.log, text=True)
        assert self.process.stdout is not None
        self.key = ""
        previous = ""
        for line in self.process.stdout:
            if "API key" in previous:
                self.key = line.strip()
            if "is starting" in line:
                break
            previous = line
        if not self.key:
            raise RuntimeError("civility up did not print the demo site's API key")
        # Keep reading: the children log to this pipe, and a full pipe would block them mid-request.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.write(line)

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/readyz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError("civility up did not become ready")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_phase(service: Service, rate: float, seconds: float, seed: int, tmp: Path) -> list[dict]:
    out = tmp / f"load-{seed}.jsonl"
    load = multiprocessing.get_context("spawn").Process(
        target=offer_load, args=(service.port, service.key, rate, seconds, seed, str(out))
    )
    load.start()
    load.join()
    return [json.loads(line) for line in out.read_text().splitlines() if line]


def aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def wait_decided(db: Database, ids: list[str], timeout: float) -> dict[str, float]:
    """Wait until every id is decided (or the timeout); returns decided_at as epoch seconds per id."""
    deadline = time.time() + timeout
    while True:
        with db.session() as session:
            pending = session.scalar(select(Comment.id).where(Comment.id.in_(ids), Comment.status == PENDING).limit(1))
        if pending is None or time.time() > deadline:
            break
        time.sleep(0.5)
    decided: dict[str, float] = {}
    with db.session() as session:
        for start in range(0, len(ids), 500):
            rows = session.execute(
                select(Comment.id, Comment.decided_at).where(Comment.id.in_(ids[start : start + 500]))
            ).all()
            decided.update({cid: aware(at).timestamp() for cid, at in rows if at is not None})
    return decided


def variant(name: str, database_url: str | None, args: argparse.Namespace, port: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data_dir = tmp / "var"
        started = time.time()
        service = Service(data_dir, database_url, port, args.workers)
        try:
            service.wait_ready()
            db = Database(normalize_database_url(database_url or f"sqlite:///{data_dir / 'civility.db'}"))
            with db.session() as session:  # the bench offers far more than a real site's default limits allow
                for site in session.scalars(select(Site)):
                    site.policy = {
                        **site.policy,
                        "submissions_per_minute": 10**7,
                        "submissions_per_ip_per_minute": 10**7,
                    }
                session.commit()
            redis_url = running_url(data_dir)
            assert redis_url, "embedded Redis URL not found"
            sampler = Sampler(redis_url)
            sampler.start()
            print(f"[{name}] up and ready in {time.time() - started:.1f}s; {len(worker_rss())} worker(s)", flush=True)

            offered = run_phase(service, args.rate, args.seconds, 1, tmp)
            accepted = [r for r in offered if r["status"] == 202]
            decided = wait_decided(db, [r["id"] for r in accepted], timeout=120)
            api_ms = [(r["done"] - r["due"]) * 1000 for r in offered]
            decision_ms = [(decided[r["id"]] - r["due"]) * 1000 for r in accepted if r["id"] in decided]
            statuses = sorted({r["status"] for r in offered})
            print(
                f"[{name}] offered {args.rate:.0f}/s for {args.seconds:.0f}s: {len(offered)} POSTs, "
                f"statuses {statuses}, "
                f"{len(decided)}/{len(accepted)} decided; API p50 {percentile(api_ms, 0.5):.1f} ms, "
                f"p99 {percentile(api_ms, 0.99):.1f} ms; decision p50 {percentile(decision_ms, 0.5):.0f} ms, "
                f"p99 {percentile(decision_ms, 0.99):.0f} ms",
                flush=True,
            )

            burst = run_phase(service, args.burst_rate, args.burst_seconds, 2, tmp)
            burst_ok = [r for r in burst if r["status"] == 202]
            burst_decided = wait_decided(db, [r["id"] for r in burst_ok], timeout=180)
            first_due = min(r["due"] for r in burst)
            last_decided = max(burst_decided.values())
            sustained = len(burst_decided) / (last_decided - first_due)
            burst_api = [(r["done"] - r["due"]) * 1000 for r in burst]
            print(
                f"[{name}] saturation: offered {args.burst_rate:.0f}/s for {args.burst_seconds:.0f}s "
                f"({len(burst)} POSTs, {len(burst_ok)} accepted, API p99 {percentile(burst_api, 0.99):.0f} ms); "
                f"all {len(burst_decided)} decided {last_decided - first_due:.1f}s after the first was due: "
                f"{sustained:.1f} decided comments/s sustained",
                flush=True,
            )
            # Spans for held comments come after the decisions, from the explain queue: report when it drains.
            redis = Redis.from_url(redis_url)
            deadline = time.time() + 120
            while redis.llen("rq:queue:explain") and time.time() < deadline:
                time.sleep(0.5)
            print(
                f"[{name}] explain queue (spans for held comments) drained {time.time() - first_due:.1f}s after the "
                f"burst's first POST was due",
                flush=True,
            )
            sampler.stop.set()
            sampler.join()
            t0 = sampler.depth[0][0] if sampler.depth else 0
            depth = " ".join(f"{t - t0:.0f}s:{d}" for t, d in sampler.depth[:: max(1, len(sampler.depth) // 30)])
            print(f"[{name}] moderation queue depth over time: {depth}", flush=True)
            rss = max(sampler.rss_mb.values()) if sampler.rss_mb else float("nan")
            print(f"[{name}] worker RSS (max over the run): {rss:.0f} MB", flush=True)
            db.dispose()
            return {
                "sustained_per_s": sustained,
                "api_p50_ms": percentile(api_ms, 0.5),
                "api_p99_ms": percentile(api_ms, 0.99),
                "decision_p50_ms": percentile(decision_ms, 0.5),
                "decision_p99_ms": percentile(decision_ms, 0.99),
                "worker_rss_mb": rss,
                "lost": len(accepted) - len(decided) + len(burst_ok) - len(burst_decided),
            }
        finally:
            service.stop()


def postgres_url(admin_url: str) -> str | None:
    """A fresh, empty database on the PostgreSQL at `admin_url`, or None if it is not reachable."""
    try:
        import psycopg

        name = f"civility_bench_{os.getpid()}"
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name}")
            connection.execute(f"CREATE DATABASE {name}")
        return admin_url.rsplit("/", 1)[0] + f"/{name}"
    except Exception as error:  # noqa: BLE001 - any failure just means "no PostgreSQL variant"
        print(f"[postgresql] skipped: {type(error).__name__}: {error}", flush=True)
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="offered comments/s in phase 1")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--burst-rate", type=float, default=400.0, help="offered comments/s in phase 2")
    parser.add_argument("--burst-seconds", type=float, default=8.0)
    parser.add_argument("--workers", type=int, help="workers under civility up (default: its own)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    results: dict[str, dict[str, float]] = {}
    for n, name in enumerate(args.databases.split(",")):
        url = None
        if name == "postgresql":
            url = postgres_url(args.postgres)
            if url is None:
                continue
        results[name] = variant(name, url, args, port=18600 + n)
    first = next(iter(results))
    pairs = {f"{k}": v for k, v in results[first].items()}
    for name, figures in results.items():
        if name != first:
            pairs |= {f"{name}_{k}": v for k, v in figures.items()}
    print(" ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in pairs.items()))


if __name__ == "__main__":
    main()
