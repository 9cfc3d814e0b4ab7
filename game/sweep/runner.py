"""Run a sweep: every (variant, seed) of a level, paired on the same seeds, into a sweep folder.

    from engine.compare import Variant
    from game.sweep import sweep
    result = sweep("levels/1011.toml", [Variant.parse("bitmex:exchange.adl_policy=bitmex")],
                   seeds=range(1, 101), out="sweeps/policies")

Runs go to a process pool on every core (``workers``), or to a Dask cluster: ``cluster="local"``
starts a ``LocalCluster`` of ``workers`` processes, any other value is the address of a running
Dask scheduler. Either way the rows are the same: each run is deterministic and its row holds
nothing about where it ran. The needed ADL budget comes from one no-ADL pass per seed and per
distinct rule set (variants that differ only in how ADL ranks, lights or prices share it). Both
go seed by seed — a seed's pass, then its runs, before later seeds' passes (``Plan`` for the
pool; Dask runs what was submitted first first) — so rows come in seed order from the start.
Finished rows are written every ``flush_every`` rows; ctrl-c (``KeyboardInterrupt``) cancels
what has not finished, writes what has, and returns with ``interrupted`` set.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from engine.adl_research import POLICY_KEYS
from engine.compare import BASELINE, Variant, resolve
from engine.errors import InvalidInput
from engine.level import load_level
from engine.saves.runs import engine_build

from .rows import no_adl_row, run_row
from .store import SweepStore


@dataclass
class SweepResult:
    folder: Path | None
    ran: int
    """Runs made by this call (finished runs already in the folder are not run again)."""
    skipped: int
    interrupted: bool
    seconds: float
    variants: list[Variant] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    """This call's rows, when it kept no folder (``out=None``: ``crashfloor compare``)."""

    @property
    def runs_per_second(self) -> float:
        return self.ran / self.seconds if self.seconds > 0 else 0.0


def pass_key(overrides: tuple[str, ...]) -> tuple[str, ...]:
    """What the no-ADL pass of a variant depends on: its overrides without the ADL-only keys."""
    return tuple(o for o in overrides if o.partition("=")[0].strip() not in POLICY_KEYS)


def sweep(level_path: str | Path, variants: list[Variant], seeds: Iterable[int],
          out: str | Path | None, *, sets: Iterable[str] = (), workers: int | None = None,
          cluster: str | None = None, needed: bool = True,
          progress: Callable[[int, int], None] | None = None,
          flush_every: int = 16) -> SweepResult:
    """Run the baseline and ``variants`` on ``seeds`` into folder ``out``; ``sets``: overrides
    applied to every variant first; ``progress(done, total)`` after each run. With ``out=None``
    nothing is written: the rows come back in ``SweepResult.rows`` (a small sweep: compare)."""
    level_path = str(level_path)
    seeds = list(seeds)
    if not seeds:
        raise InvalidInput("give at least one seed")
    if workers is not None and not 1 <= workers <= 256:
        raise InvalidInput(f"--workers must be 1..256, got {workers}")
    sets = tuple(sets)
    full = [Variant(v.name, sets + v.overrides) for v in resolve(level_path, variants)]
    if sets:
        load_level(level_path, list(sets))  # a bad --set is reported before anything runs
    level = load_level(level_path)
    identity = {"level": level.name, "level_sha256": level.sha256, "engine_build": engine_build()}
    store = None if out is None else SweepStore(out)
    if store is not None:
        store.open(level.name, level.sha256, identity["engine_build"],
                   {v.name: list(v.overrides) for v in full})
    done = store.done() if store is not None else set()
    kept: list[dict] = []
    jobs = [(v, seed) for v in full for seed in seeds if (v.name, seed) not in done]
    start = time.perf_counter()
    buffer: list[dict] = []
    ran = 0
    interrupted = False
    runner = _dask if cluster else _local
    try:
        for row in runner(level_path, identity, jobs, needed, workers, cluster):
            buffer.append(row)
            ran += 1
            if store is None:
                kept.append(row)
            elif len(buffer) >= flush_every:
                store.append(buffer)
                buffer = []
            if progress is not None:
                progress(ran, len(jobs))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if store is not None:
            store.append(buffer)
    return SweepResult(None if store is None else store.folder, ran,
                       len(full) * len(seeds) - len(jobs), interrupted,
                       time.perf_counter() - start, full, seeds, kept)


def _jobs_by_pass(jobs: list[tuple[Variant, int]]) -> dict[tuple, list[tuple[Variant, int]]]:
    """The jobs grouped by the no-ADL pass they share, seed by seed (a seed's rule sets in the
    order their variants came)."""
    groups: dict[tuple, list[tuple[Variant, int]]] = {}
    for v, seed in jobs:
        groups.setdefault((pass_key(v.overrides), seed), []).append((v, seed))
    return dict(sorted(groups.items(), key=lambda group: group[0][1]))


def _identity(identity: dict, v: Variant) -> dict:
    return {**identity, "variant": v.name}


class Plan:
    """What the process pool runs next, seed by seed: a seed's no-ADL pass, then its runs as soon
    as that pass is in, before any later seed's pass; no more than ``ahead`` tasks out at once.
    So rows come in seed order from the start, and an interrupted sweep has lost at most the
    tasks in flight (all passes first made a thousand-seed sweep an hour of passes, on two
    cores, before its first row)."""

    def __init__(self, groups: dict[tuple, list[tuple[Variant, int]]], needed: bool,
                 ahead: int):
        self.groups = enumerate(groups.items())
        self.needed = needed
        self.ahead = ahead
        self.ready: list[tuple[int, int, Variant, int, tuple | None]] = []
        """A heap of runs whose pass is in (or that need none): (group, member, variant, seed,
        pass), the earliest seed first."""
        self.out = 0

    def next(self) -> tuple | None:
        """``("run", variant, seed, passed)`` or ``("pass", key, seed, members, group)``, or
        None when ``ahead`` tasks are out or nothing is left to start."""
        if self.out >= self.ahead:
            return None
        if not self.ready:
            group = next(self.groups, None)
            if group is None:
                return None
            g, ((key, seed), members) = group
            if self.needed:
                self.out += 1
                return ("pass", key, seed, members, g)
            self._ready(g, members, None)
        _, _, v, s, passed = heapq.heappop(self.ready)
        self.out += 1
        return ("run", v, s, passed)

    def finished(self, task: tuple, result) -> None:
        """A task came back (a pass's ``result`` readies its seed's runs)."""
        self.out -= 1
        if task[0] == "pass":
            self._ready(task[4], task[3], result)

    def _ready(self, g: int, members: list[tuple[Variant, int]], passed: tuple | None) -> None:
        for k, (v, s) in enumerate(members):
            heapq.heappush(self.ready, (g, k, v, s, passed))


def _local(level_path: str, identity: dict, jobs: list[tuple[Variant, int]], needed: bool,
           workers: int | None, _cluster: str | None) -> Iterator[dict]:
    """The process pool (one process: in this process, in order)."""
    import os
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    workers = workers or min(len(jobs), os.cpu_count() or 1) or 1
    groups = _jobs_by_pass(jobs)
    if workers == 1:
        for (key, seed), members in groups.items():
            passed = no_adl_row(level_path, key, seed) if needed else None
            for v, s in members:
                yield run_row(level_path, _identity(identity, v), v.overrides, s, passed)
        return
    plan = Plan(groups, needed, ahead=2 * workers)  # one queued behind each busy worker
    pool = ProcessPoolExecutor(max_workers=workers)
    pending: dict[Future, tuple] = {}
    try:
        while True:
            while (task := plan.next()) is not None:
                if task[0] == "pass":
                    pending[pool.submit(no_adl_row, level_path, task[1], task[2])] = task
                else:
                    _, v, s, passed = task
                    pending[pool.submit(run_row, level_path, _identity(identity, v),
                                        v.overrides, s, passed)] = task
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                task = pending.pop(future)
                result = future.result()
                plan.finished(task, result)
                if task[0] == "run":
                    yield result
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _dask(level_path: str, identity: dict, jobs: list[tuple[Variant, int]], needed: bool,
          workers: int | None, cluster: str | None) -> Iterator[dict]:
    """A Dask cluster: ``"local"`` starts a LocalCluster of ``workers`` processes (one thread
    each); anything else is a scheduler's address."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InvalidInput("--cluster needs Dask: pip install -e '.[cluster]' (or '.[dev]')") \
            from None
    import os
    local = None
    if cluster == "local":
        local = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                             processes=True, dashboard_address=None)
        client = Client(local)
    else:
        try:
            client = Client(cluster, timeout="10s")
        except OSError as exc:
            raise InvalidInput(f"--cluster {cluster}: no Dask scheduler answers there "
                               f"({exc})") from None
    futures = []
    try:
        for (key, seed), members in _jobs_by_pass(jobs).items():
            passed = client.submit(no_adl_row, level_path, key, seed, pure=False) \
                if needed else None
            for v, s in members:
                futures.append(client.submit(run_row, level_path, _identity(identity, v),
                                             v.overrides, s, passed, pure=False))
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.cancel(futures)
        client.close()
        if local is not None:
            local.close()


__all__ = ["BASELINE", "Plan", "SweepResult", "pass_key", "sweep"]
