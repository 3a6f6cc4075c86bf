"""The soak's pure helpers (the soak itself restarts Neo4j: `make soak`, never `make test`)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import orjson
import pytest

from bench import soak
from bench.soak import (
    OK,
    Keys,
    Sample,
    around_restart,
    calibrate,
    choose_concurrency,
    classify,
    errors_by_kind,
    in_window,
    latency,
    log_summary,
    minutes,
    recovered,
)


def test_outcomes_are_told_by_status_and_code() -> None:
    def body(payload: object) -> bytes:
        return orjson.dumps(payload)

    unavailable = {"errors": [{"message": "down", "extensions": {"code": "UNAVAILABLE"}}]}
    assert classify(200, body({"data": {"customerBy": None}})) == OK
    assert classify(503, body(unavailable)) == "HTTP 503 UNAVAILABLE"
    partial = {"data": {"x": 1}, "errors": [{"extensions": {"code": "INTERNAL"}}, {}]}
    assert classify(200, body(partial)) == "HTTP 200 INTERNAL+no code"
    assert classify(502, b"<html>bad gateway</html>") == "HTTP 502 (not JSON)"
    assert classify(200, body({"data": None})) == "HTTP 200 without errors or data"


def test_concurrency_stops_where_gains_stall_or_p99_doubles() -> None:
    def step(concurrency: int, rate: float, p99: float, errors: int = 0) -> dict[str, float]:
        return {"concurrency": concurrency, "requests_per_s": rate, "p99_ms": p99, "errors": errors}

    assert choose_concurrency([step(1, 100, 10), step(2, 180, 12), step(4, 190, 15)]) == 2
    assert choose_concurrency([step(1, 100, 10), step(2, 180, 25)]) == 1
    assert choose_concurrency([step(1, 100, 10), step(2, 180, 12, errors=1)]) == 1
    assert choose_concurrency([step(1, 100, 10), step(2, 150, 12), step(4, 200, 20)]) == 4


def test_calibration_measures_a_step_that_misses_once_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given rates per 1 s step: 2 stalls once (noise) then gains, 4 stalls twice
    rates = iter([100, 105, 180, 185, 186])
    asked: list[int] = []

    def run_for(_port: int, _keys: Keys, concurrency: int, _s: float, _seed: int) -> object:
        asked.append(concurrency)
        return SimpleNamespace(samples=[Sample(0.0, "headline", 5.0, OK)] * next(rates))

    monkeypatch.setattr(soak, "run_for", run_for)
    # when
    chosen, measured = calibrate(0, Keys([], [], []), 32, 1.0, 1)
    # then
    assert (chosen, asked) == (2, [1, 2, 2, 4, 4])
    assert [m["repeat"] for m in measured] == [False, False, True, False, True]


def test_figures_windows_and_minutes() -> None:
    # given two minutes of one request a second, failing from second 60 to 65
    samples = [
        Sample(float(t), "headline", 10.0 + t, OK if not 60 <= t < 65 else "HTTP 503 UNAVAILABLE")
        for t in range(120)
    ]
    # then
    figures = latency(samples, 120)
    assert (figures["requests"], figures["errors"], figures["requests_per_s"]) == (120, 5, 1.0)
    assert figures["max_ms"] == 129.0
    assert errors_by_kind(samples) == {"HTTP 503 UNAVAILABLE": 5}
    assert [in_window(s, (60.0, 65.0)) for s in samples[58:67]] == [False] * 2 + [True] * 5 + [
        False
    ] * 2
    rss = [(30.0, {1: 80.0, 2: 81.0}), (90.0, {1: 80.0, 2: 95.5})]
    rows = minutes(samples, rss, 120)
    assert [(r["minute"], r["requests"], r["errors"]) for r in rows] == [(1, 60, 0), (2, 60, 5)]
    assert [(r["rss_max_mb"], r["rss_total_mb"]) for r in rows] == [(81.0, 161.0), (95.5, 175.5)]
    assert recovered(samples, 60.0, 63.0) == 65.0


def test_the_log_summary_counts_what_is_not_access_or_info(tmp_path: Path) -> None:
    log = tmp_path / "gunicorn.log"
    log.write_text(
        "Serving ctxapi on http://127.0.0.1:1/graphql  (Ctrl-C stops)\n"
        "[2026-11-29 18:32:13 +0000] [16835] [INFO] Booting worker with pid: 16835\n"
        '[29/Nov/2026:18:33:28 +0000] "POST /graphql" 503 263 5ms abc\n'
        "[2026-11-29 18:33:29 +0000] [16835] [WARNING] query timed out after 10.0 s\n"
        "[2026-11-29 18:33:30 +0000] [16836] [WARNING] query timed out after 10.0 s\n"
        "Unable to retrieve routing information\n"
    )
    summary = log_summary(log)
    assert summary["workers booted"] == 1
    assert summary["warning lines"] == 2
    assert summary["unformatted lines"] == 1
    assert summary["messages"] == {
        "[WARNING] query timed out after N.N s": 2,
        "(no log format) Unable to retrieve routing information": 1,
    }


def test_around_the_restart_seconds_then_five_second_lines() -> None:
    def row(second: int, ok: int, errors: int = 0) -> dict[str, object]:
        failed = {"HTTP 503 UNAVAILABLE": errors} if errors else {}
        return {"second": second, "ok": ok, "errors": failed, "p99_ms": float(second)}

    rows = [row(9, 5), row(10, 0, 3), row(11, 0), row(12, 0)]
    rows += [row(n, 0) for n in range(13, 20)] + [row(n, 4) for n in range(20, 23)]
    assert around_restart(rows, window_end=12.5) == [
        "| 9 | 5 | - | 9.0 |",
        "| 10 | 0 | 3 HTTP 503 UNAVAILABLE | 10.0 |",
        "| 11-19 | 0 | nothing answered | - |",
        "| 20-22 | 12 | - | 22.0 |",
    ]
