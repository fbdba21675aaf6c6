"""Time of a full recap over a heavy listener's history: one million plays over ten years.

Builds (once, cached under the temp folder) a store holding a generated Spotify extended history of
``--plays`` plays spread evenly over ten years, then times, several times each: ``open_scope`` for the period,
``build_recap`` on that scope, and every single insight on its own. Prints medians; the goal is a full recap
(scope + every insight) in one second or less. Machines here are shared and noisy: compare medians of one run.

    python benchmarks/recap.py [--plays 1000000] [--runs 5] [--period all] [--data DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tutti.demo import RECORDS_PER_FILE, extended_records
from tutti.insights import clock, discoveries, eras, obsessions, series, service_recap, skips, streaks, top, totals
from tutti.insights.period import Period
from tutti.insights.recap import build_recap
from tutti.insights.scope import Scope, open_scope
from tutti.insights.zones import ZonePlan
from tutti.report.html import javascript_bundle, render_recap_html
from tutti.store import open_store
from tutti.store.ingest import import_paths

START = datetime(2015, 1, 1, 7, tzinfo=UTC)
YEARS = 10
TS = "%Y-%m-%dT%H:%M:%SZ"


def _stretched(count: int) -> Iterator[dict[str, Any]]:
    """The demo generator's records, their times stretched linearly so that they span ``YEARS`` years."""
    records = list(extended_records(count, seed=11, start=START))
    last = datetime.strptime(records[-1]["ts"], TS).replace(tzinfo=UTC)
    factor = YEARS * 365.25 * 86400 / max((last - START).total_seconds(), 1)
    for record in records:
        ended = datetime.strptime(record["ts"], TS).replace(tzinfo=UTC)
        moved = START + (ended - START) * factor
        record["ts"] = moved.strftime(TS)
        record["offline_timestamp"] = int(moved.timestamp()) - record["ms_played"] // 1000
        yield record


def _store_home(folder: Path, plays: int) -> Path:
    """A store home with the generated history imported as profile 'bench' (built once, then reused)."""
    home = folder / f"{plays}" / "home"
    marker = home.parent / ".complete"
    if marker.exists():
        return home
    shutil.rmtree(home.parent, ignore_errors=True)
    export = home.parent / "export"
    export.mkdir(parents=True)
    started = time.perf_counter()
    chunk: list[dict[str, Any]] = []
    files = 0
    for record in _stretched(plays):
        chunk.append(record)
        if len(chunk) == RECORDS_PER_FILE:
            (export / f"Streaming_History_Audio_{files}.json").write_bytes(orjson.dumps(chunk))
            files, chunk = files + 1, []
    if chunk:
        (export / f"Streaming_History_Audio_{files}.json").write_bytes(orjson.dumps(chunk))
    with open_store(home) as store:
        import_paths(store, "bench", [export])
    shutil.rmtree(export)
    marker.touch()
    print(f"built a store of {plays:,} generated plays in {time.perf_counter() - started:.1f} s")
    return home


INSIGHTS: dict[str, Callable[[Scope], object]] = {
    "totals": totals.totals,
    "top_artists": lambda s: top.top_artists(s, 10),
    "top_artists_by_plays": lambda s: top.top_artists(s, 10, by="plays"),
    "top_tracks": lambda s: top.top_tracks(s, 10),
    "top_tracks_by_plays": lambda s: top.top_tracks(s, 10, by="plays"),
    "top_albums": lambda s: top.top_albums(s, 10),
    "top_shows": lambda s: top.top_shows(s, 10),
    "listening_clock": clock.listening_clock,
    "monthly_series": series.monthly_series,
    "daily_series": series.daily_series,
    "busiest_day": series.busiest_day,
    "longest_streak": streaks.longest_streak,
    "sessions": streaks.sessions,
    "discoveries": lambda s: discoveries.discoveries(s, 10),
    "obsessions": obsessions.obsessions,
    "comebacks": obsessions.comebacks,
    "eras": eras.eras,
    "skips": skips.skips,
    "compare_service_recaps": service_recap.compare_service_recaps,
}


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plays", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--period", default="all")
    parser.add_argument("--zone", default="Europe/Berlin")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "tutti-bench-recap")
    args = parser.parse_args()

    home = _store_home(args.data, args.plays)
    period, zones = Period.parse(args.period), ZonePlan.single(args.zone)
    with open_store(home) as store:
        events = store.con.execute("SELECT count(*) FROM plays").fetchall()[0][0]
        print(f"store: {events:,} events; period {period.label}; zone {args.zone}; {args.runs} runs")
        scope_s: list[float] = []
        recap_s: list[float] = []
        render_s: list[float] = []
        each: dict[str, list[float]] = {name: [] for name in INSIGHTS}
        bundle_s = _timed(javascript_bundle)  # once per process, then cached
        for _ in range(args.runs):
            started = time.perf_counter()
            scope = open_scope(store, "bench", period, zones=zones)
            scope_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            recap = build_recap(scope, top_n=10)
            recap_s.append(time.perf_counter() - started)
            render_s.append(_timed(lambda recap=recap: render_recap_html(recap)))  # type: ignore[misc]
            for name, insight in INSIGHTS.items():
                each[name].append(_timed(lambda insight=insight, scope=scope: insight(scope)))  # type: ignore[misc]
            scope.close()
    scope_median, recap_median = statistics.median(scope_s), statistics.median(recap_s)
    print(f"{'open_scope':<24}{scope_median * 1000:>9.0f} ms")
    print(f"{'build_recap':<24}{recap_median * 1000:>9.0f} ms")
    total = scope_median + recap_median
    verdict = "within" if total <= 1.0 else "over"
    print(f"{'scope + recap':<24}{total * 1000:>9.0f} ms   ({verdict} the 1 s goal)")
    print(f"{'render_recap_html':<24}{statistics.median(render_s) * 1000:>9.0f} ms   (the page, charts and tables)")
    print(f"{'javascript_bundle':<24}{bundle_s * 1000:>9.0f} ms   (once per process)")
    print("single insights (median):")
    for name, times in sorted(each.items(), key=lambda item: -statistics.median(item[1])):
        print(f"  {name:<22}{statistics.median(times) * 1000:>9.1f} ms")


if __name__ == "__main__":
    main()
