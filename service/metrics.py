"""Prometheus metrics computed at scrape time from Redis and the database (as rq-exporter does), so the
numbers are right however many API and worker processes there are: nothing is counted in memory."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from redis import Redis
from rq import Queue, Worker
from sqlalchemy import func, select

from service import histograms, keys
from service.db import Database
from service.tables import Comment, Site, WebhookDelivery, utcnow

RECENT = timedelta(hours=1)


class CivilityCollector(Collector):
    def __init__(self, db: Database, redis: Redis, model_dir: Path):
        self.db, self.redis, self.model_dir = db, redis, model_dir

    def collect(self) -> Iterator[Metric]:
        yield from self.queues()
        yield from self.comments()
        yield from self.histograms()
        yield self.model_info()

    def histograms(self) -> Iterator[Metric]:
        for name in (histograms.SCORING_SECONDS, histograms.SCORING_BATCH_SIZE):
            buckets, total = histograms.read(self.redis, name)
            yield HistogramMetricFamily(f"civility_{name}", histograms.HELP[name], buckets=buckets, sum_value=total)

    def queues(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("civility_queue_depth", "Jobs waiting per queue", labels=["queue"])
        age = GaugeMetricFamily(
            "civility_queue_oldest_job_age_seconds", "Age of the oldest waiting job", labels=["queue"]
        )
        for name in keys.WORKER_QUEUES:
            queue = Queue(name, connection=self.redis)
            depth.add_metric([name], queue.count)
            oldest = queue.get_jobs(0, 0)
            enqueued = oldest[0].enqueued_at if oldest else None
            age.add_metric([name], (utcnow() - enqueued).total_seconds() if enqueued else 0.0)
        workers = GaugeMetricFamily("civility_workers", "Live RQ workers")
        workers.add_metric([], Worker.count(connection=self.redis))
        yield from (depth, age, workers)

    def comments(self) -> Iterator[Metric]:
        received = CounterMetricFamily("civility_comments_received", "Comments accepted", labels=["site"])
        decided = CounterMetricFamily(
            "civility_comments_by_status", "Comments by current status", labels=["site", "status"]
        )
        held_reasons = GaugeMetricFamily(
            "civility_held_last_hour_by_reason", "Comments held in the last hour, by reason", labels=["reason"]
        )
        latency = GaugeMetricFamily(
            "civility_decision_latency_seconds", "Received to decided, last hour", labels=["quantile"]
        )
        webhooks = GaugeMetricFamily("civility_webhook_deliveries", "Webhook deliveries by status", labels=["status"])
        with self.db.session() as session:
            names = dict(session.execute(select(Site.id, Site.name)).all())
            rows = session.execute(
                select(Comment.site_id, Comment.status, func.count()).group_by(Comment.site_id, Comment.status)
            )
            totals: Counter[str] = Counter()
            for site_id, status, count in rows:
                totals[names.get(site_id, str(site_id))] += count
                decided.add_metric([names.get(site_id, str(site_id)), status], count)
            for site, count in totals.items():
                received.add_metric([site], count)
            recent = session.execute(
                select(Comment.status, Comment.reasons, Comment.created_at, Comment.decided_at)
                .where(Comment.decided_at >= utcnow() - RECENT)
                .limit(20_000)
            ).all()
            for status, count in session.execute(
                select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
            ):
                webhooks.add_metric([status], count)
        reasons = Counter(r.get("code", "") for status, rs, _, _ in recent if status == "held" for r in rs or [])
        for reason, count in reasons.items():
            held_reasons.add_metric([reason], count)
        waits = sorted((decided_at - created_at).total_seconds() for _, _, created_at, decided_at in recent)
        for quantile in (0.5, 0.95, 0.99):
            latency.add_metric(
                [str(quantile)], waits[min(int(len(waits) * quantile), len(waits) - 1)] if waits else 0.0
            )
        yield from (received, decided, held_reasons, latency, webhooks)

    def model_info(self) -> Metric:
        info = GaugeMetricFamily(
            "civility_model_info", "The model artifact the service is configured with", labels=["version"]
        )
        info.add_metric([model_version(self.model_dir)], 1)
        return info


def model_version(model_dir: Path) -> str:
    try:
        config: dict[str, Any] = json.loads((model_dir / "config.json").read_text())
    except (OSError, ValueError):
        return "unavailable"
    return str(config.get("version") or model_dir.name)
