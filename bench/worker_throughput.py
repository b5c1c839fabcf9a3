"""Comments decided per second by one worker process (RQ SimpleWorker, model loaded once), end to end:
submit N comments to a real Redis and SQLite, then time a burst worker until all are decided."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from redis import Redis

from service.config import Settings
from service.db import Database
from service.embedded_redis import EmbeddedRedis
from service.migrate import upgrade
from service.schemas import CommentIn
from service.sites import create_site
from service.submit import submit_comment
from workers import runtime
from workers.worker import build_worker

BODIES = [
    "Thanks for the careful reporting on the council vote, it explained the budget well.",
    "I disagree with the mayor; the cuts will hurt the schools on the east side the most.",
    "The park looks lovely, but the overspend needs an independent review before next year.",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = EmbeddedRedis(Path(tmp))
        url = redis_server.start()
        settings = Settings(data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/bench.db", redis_url=url)
        db = Database(settings.database_url)
        upgrade(db)
        redis = Redis.from_url(url)
        with db.session() as session:
            site = create_site(session, "bench").site
            for n in range(args.comments):
                body = f"{BODIES[n % len(BODIES)]} ({n})"
                data = CommentIn(article_id="a", body=body, author_name="A", author_email=f"a{n}@example.org")
                submit_comment(session, redis, settings, site, data)
        runtime.configure(settings).scorer()  # loaded once, before the clock starts, as `civility worker` does
        started = time.perf_counter()
        build_worker(redis).work(burst=True, logging_level="WARNING")
        elapsed = time.perf_counter() - started
        redis_server.stop()
    print(f"one worker (SimpleWorker, model loaded once): {args.comments} comments in {elapsed:.1f}s")
    print(f"{args.comments / elapsed:.1f} comments/s decided (score, policy, decision and audit in SQLite)")


if __name__ == "__main__":
    main()
