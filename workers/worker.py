"""The worker process: load the model once, reconcile in the background, then run RQ's loop."""

from __future__ import annotations

import logging
import os
import threading

import setproctitle
from redis import Redis
from rq import Queue, SimpleWorker

from service import keys
from service.config import Settings
from service.reconcile import reconcile, reconcile_deliveries, reconcile_explanations
from workers import runtime

log = logging.getLogger(__name__)


class ModerationWorker(SimpleWorker):
    """Runs each job in this process instead of a forked child.

    RQ's default worker forks per job, so anything loaded in the job (the model) is loaded per job,
    and a fork alone cost ~3x the throughput of a trivial job here (128 vs 376 jobs/s, NOTES.md).
    Loading the model before the loop and never forking keeps it in memory for every job. The
    price is that a crash in a job kills the worker: the reconciler re-enqueues its comment.
    """

    def subscribe(self) -> None:
        """RQ's subscription to its control channel (kill-horse, shutdown commands), listening in 1 s waits.

        RQ listens in 60 s waits, and since redis-py 8 stopping the listener waits for the wait in hand to end.
        When the unsubscribe reply lands before the listener is told to stop, it goes back to wait: burst
        runs and shutdowns stalled for 60 s (CI's tests took 1183 s with that wait, 528 s without).
        """
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]  # RQ annotates it None
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def procline(self, message: str) -> None:
        """`civility worker: <state>` in ps and top, where RQ would write `rq:worker:<id>: ...`."""
        setproctitle.setproctitle(f"civility worker: {message}")


class Reconciler(threading.Thread):
    """Every interval, one worker (whoever takes the Redis lock) re-enqueues stale pending comments."""

    def __init__(self, rt: runtime.Runtime):
        super().__init__(name="reconciler", daemon=True)
        self.rt = rt
        self.stop = threading.Event()

    def run(self) -> None:
        interval = self.rt.settings.reconcile_interval_seconds
        assert self.rt.redis is not None
        while not self.stop.wait(interval):
            try:
                if self.rt.redis.set(keys.RECONCILE_LOCK, "1", nx=True, ex=max(1, int(interval))):
                    with self.rt.db.session() as session:
                        reconcile(session, self.rt.redis, self.rt.settings)
                        reconcile_deliveries(session, self.rt.redis, self.rt.settings)
                        reconcile_explanations(session, self.rt.redis, self.rt.settings, self.rt.scorer().version)
            except Exception:
                log.exception("event=reconcile_failed")


def build_worker(redis: Redis, queues: tuple[str, ...] = keys.WORKER_QUEUES) -> ModerationWorker:
    return ModerationWorker([Queue(name, connection=redis) for name in queues], connection=redis)


def run_worker(settings: Settings, burst: bool = False) -> None:
    """Entry point of `civility worker`: preload the model, then work until told to stop."""
    if nice := int(os.environ.get("CIVILITY_WORKER_NICE", "0")):
        os.nice(nice)
    if settings.torch_threads:
        import torch

        torch.set_num_threads(settings.torch_threads)
    rt = runtime.configure(settings)
    scorer = rt.scorer()
    # Scores differ slightly by precision (bf16, int8 or fp32 by CPU): the log says which one decided.
    log.info("event=model_loaded version=%s precision=%s", scorer.version, getattr(scorer, "precision", "unknown"))
    assert rt.redis is not None
    reconciler = Reconciler(rt)
    reconciler.start()
    try:
        build_worker(rt.redis).work(burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        reconciler.stop.set()
