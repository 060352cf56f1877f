"""The sync daemon: rescoring runs on a schedule (APScheduler), one at a time.

Each tick runs the whole pipeline (`pipeline.RUN_STAGES`). A tick that fails is logged and leaves the previous
generation intact (the write-back guarantees it); the next tick tries again. Ticks never overlap
(``max_instances=1``) and missed ticks are coalesced into one.
"""

from __future__ import annotations

import logging
import signal
from typing import Callable

from gnn_neo4j.settings import Settings

log = logging.getLogger(__name__)


def rescore_once(settings: Settings, options) -> dict:
    """One full cycle; returns a summary (generation, model version, timings)."""
    from gnn_neo4j.db import GraphRunner
    from gnn_neo4j.mapping import load_mapping
    from gnn_neo4j.pipeline import RUN_STAGES, RunContext, run_stages

    with GraphRunner(settings) as runner:
        ctx = run_stages(RunContext(settings, runner, load_mapping(settings.mapping), options), RUN_STAGES)
    return {"generation": ctx.stamp.generation, "model_version": ctx.model_version, "timings": ctx.timings}


def build_scheduler(job: Callable[[], object], interval_minutes: float, run_now: bool = True):
    """A blocking scheduler running ``job`` every ``interval_minutes`` (first run immediately when ``run_now``)."""
    from datetime import datetime, timezone

    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    if interval_minutes <= 0:
        raise ValueError("interval must be > 0 minutes")
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        job, IntervalTrigger(minutes=interval_minutes, timezone="UTC"), id="rescore", max_instances=1, coalesce=True,
        next_run_time=datetime.now(timezone.utc) if run_now else None, misfire_grace_time=None,
    )
    return scheduler


def run_daemon(settings: Settings, options, interval_minutes: float, max_runs: int | None = None) -> int:
    """Run the daemon until SIGTERM/SIGINT (or ``max_runs`` ticks); returns the number of successful runs."""
    state = {"ok": 0, "ticks": 0}
    scheduler = None

    def tick() -> None:
        state["ticks"] += 1
        try:
            summary = rescore_once(settings, options)
            state["ok"] += 1
            log.info("rescoring run complete: generation %s, model %s", summary["generation"], summary["model_version"])
        except Exception:  # noqa: BLE001 - a failed tick must not kill the daemon; the previous generation stays
            log.exception("rescoring run failed; the previous generation stays current")
        if max_runs is not None and state["ticks"] >= max_runs:
            scheduler.shutdown(wait=False)

    scheduler = build_scheduler(tick, interval_minutes)
    previous = signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    try:
        scheduler.start()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return state["ok"]
