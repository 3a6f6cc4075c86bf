"""The per-API-key rate limiter (ctxapi.ratelimit): GCRA over a mapping the workers share."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event

import pytest

from ctxapi.ratelimit import Decision, RateLimiter, headers

NOW = 123_456.789  # a monotonic clock reading; every check below passes its own ``now``
FORK = multiprocessing.get_context("fork")


def spend(limiter: RateLimiter, key: str, times: int, limit: int, now: float) -> list[Decision]:
    return [limiter.check(key, limit, now=now) for _ in range(times)]


def test_a_fresh_key_spends_its_whole_burst_then_is_refused() -> None:
    # given
    limiter = RateLimiter(slots=64)
    # when
    decisions = spend(limiter, "key-a", 11, limit=10, now=NOW)
    # then
    assert [d.allowed for d in decisions] == [True] * 10 + [False]
    assert [d.remaining for d in decisions] == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0]
    assert {d.limit for d in decisions} == {10}


@pytest.mark.parametrize("limit", [1, 3, 7, 13, 60, 997])
def test_the_burst_is_exactly_the_limit_whatever_the_interval(limit: int) -> None:
    """60/7 s is no float: seven of them must still fit in one minute."""
    # given
    limiter = RateLimiter(slots=64)
    # when
    decisions = spend(limiter, "key-a", limit + 1, limit=limit, now=NOW)
    # then
    assert sum(d.allowed for d in decisions) == limit
    assert not decisions[-1].allowed


def test_a_refused_request_does_not_consume_budget() -> None:
    # given a key that spent its burst of 4 (one request every 15 s)
    limiter = RateLimiter(slots=64)
    spend(limiter, "key-a", 4, limit=4, now=NOW)
    # when it is refused many times, then waits one interval
    refused = spend(limiter, "key-a", 50, limit=4, now=NOW + 10)
    later = limiter.check("key-a", 4, now=NOW + 15)
    # then the refusals cost nothing: the interval's one request passes
    assert not any(d.allowed for d in refused)
    assert later.allowed


def test_the_budget_comes_back_one_request_per_interval() -> None:
    # given a key that spent its burst of 6 per minute (one request every 10 s)
    limiter = RateLimiter(slots=64)
    spend(limiter, "key-a", 6, limit=6, now=NOW)
    # when
    too_early = limiter.check("key-a", 6, now=NOW + 9.999)
    on_time = spend(limiter, "key-a", 2, limit=6, now=NOW + 10)
    full_again = spend(limiter, "key-a", 7, limit=6, now=NOW + 10 + 60)
    # then
    assert not too_early.allowed
    assert [d.allowed for d in on_time] == [True, False]
    assert [d.allowed for d in full_again] == [True] * 6 + [False]


def test_reset_and_retry_after_are_whole_seconds_rounded_up() -> None:
    # given a budget of 4 per minute: one request every 15 s
    limiter = RateLimiter(slots=64)
    # when
    first = limiter.check("key-a", 4, now=NOW)
    spend(limiter, "key-a", 3, limit=4, now=NOW)
    refused = limiter.check("key-a", 4, now=NOW)
    half_later = limiter.check("key-a", 4, now=NOW + 0.5)
    nearly = limiter.check("key-a", 4, now=NOW + 14.2)
    # then
    assert first == Decision(allowed=True, limit=4, remaining=3, reset=15, retry_after=0)
    assert refused == Decision(allowed=False, limit=4, remaining=0, reset=60, retry_after=15)
    assert half_later == Decision(allowed=False, limit=4, remaining=0, reset=60, retry_after=15)
    assert nearly == Decision(allowed=False, limit=4, remaining=0, reset=46, retry_after=1)


def test_a_limit_of_zero_or_less_is_unlimited_and_touches_no_state() -> None:
    # given
    limiter = RateLimiter(slots=64)
    # when
    decisions = spend(limiter, "key-a", 1000, limit=0, now=NOW)
    negative = limiter.check("key-a", -1, now=NOW)
    limited = spend(limiter, "key-a", 3, limit=2, now=NOW)
    # then
    assert (
        set(decisions)
        == {negative}
        == {Decision(True, limit=0, remaining=0, reset=0, retry_after=0)}
    )
    assert [d.allowed for d in limited] == [True, True, False]
    assert headers(negative) == {}


def test_two_keys_have_their_own_budgets() -> None:
    # given a key that spent its budget
    limiter = RateLimiter(slots=64)
    spend(limiter, "key-a", 3, limit=3, now=NOW)
    # when
    other = spend(limiter, "key-b", 4, limit=3, now=NOW)
    again = limiter.check("key-a", 3, now=NOW)
    # then
    assert [d.allowed for d in other] == [True, True, True, False]
    assert not again.allowed


def test_keys_far_beyond_the_slot_count_reuse_the_slots_of_full_buckets() -> None:
    # given 8 slots, and 1000 keys each arriving once the previous ones are full again
    limiter = RateLimiter(slots=8)
    for i in range(1000):
        now = NOW + 60 * i
        # when the key spends its burst
        decisions = spend(limiter, f"key-{i}", 4, limit=3, now=now)
        # then it had all of it, and its state held
        assert [(d.allowed, d.remaining) for d in decisions] == [
            (True, 2),
            (True, 1),
            (True, 0),
            (False, 0),
        ], f"key-{i}"


def test_a_full_table_never_refuses_a_fresh_key_and_evicts_the_nearest_to_full() -> None:
    # given 4 slots: one key that spent its whole burst, then 200 keys spending one request
    limiter = RateLimiter(slots=4)
    spend(limiter, "heavy", 10, limit=10, now=NOW)
    # when
    fresh = [limiter.check(f"key-{i}", 10, now=NOW) for i in range(200)]
    heavy = limiter.check("heavy", 10, now=NOW)
    # then each fresh key had its whole burst, and the spent key kept its slot
    assert {(d.allowed, d.remaining) for d in fresh} == {(True, 9)}
    assert not heavy.allowed


def test_the_headers_of_an_allowed_and_a_refused_request() -> None:
    # given
    limiter = RateLimiter(slots=64)
    allowed = limiter.check("key-a", 2, now=NOW)
    limiter.check("key-a", 2, now=NOW)
    # when
    refused = limiter.check("key-a", 2, now=NOW + 0.25)
    # then
    assert headers(allowed) == {
        "RateLimit-Limit": "2",
        "RateLimit-Remaining": "1",
        "RateLimit-Reset": "30",
    }
    assert headers(refused) == {
        "RateLimit-Limit": "2",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "60",
        "Retry-After": "30",
    }


def test_without_now_it_counts_on_the_monotonic_clock() -> None:
    # given a budget of 2 per hour: no refill happens during the test
    limiter = RateLimiter(slots=64)
    # when
    decisions = [limiter.check("key-a", 2, period=3600) for _ in range(3)]
    # then
    assert [d.allowed for d in decisions] == [True, True, False]
    assert 1799 <= decisions[-1].retry_after <= 1800


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="slots"):
        RateLimiter(slots=0)
    with pytest.raises(ValueError, match="period"):
        RateLimiter(slots=8).check("key-a", 5, period=0, now=NOW)


# -- across processes -------------------------------------------------------------------------
LIMIT = 25
PROCESSES = 4


def _worker(limiter: RateLimiter | None, go: Event, allowed: Synchronized[int]) -> None:
    """A forked worker: wait for the start, spend 2 * LIMIT requests, count the allowed ones."""
    go.wait(60)
    mine = limiter or RateLimiter.shared(slots=64)  # None: a limiter made after the fork
    count = sum(d.allowed for d in spend(mine, "key-a", 2 * LIMIT, limit=LIMIT, now=NOW))
    with allowed.get_lock():
        allowed.value += count


def _run_workers(limiter: RateLimiter | None) -> int:
    allowed: Synchronized[int] = FORK.Value("i", 0)
    go = FORK.Event()
    workers = [FORK.Process(target=_worker, args=(limiter, go, allowed)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    go.set()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    return int(allowed.value)


def test_forked_workers_share_one_budget() -> None:
    # given a limiter made before the fork, as the gunicorn master makes it
    limiter = RateLimiter.shared(slots=64)
    # when 4 workers each try twice the limit on one key, at one fixed time
    total = _run_workers(limiter)
    # then the key got its limit, once, across all of them
    assert total == LIMIT
    assert not limiter.check("key-a", LIMIT, now=NOW).allowed


def test_a_limiter_made_after_the_fork_counts_per_process() -> None:
    # given no limiter before the fork: each worker makes its own
    # when
    total = _run_workers(None)
    # then the budget is per process (and the test above can tell the difference)
    assert total == LIMIT * PROCESSES


def test_it_fails_open_once_a_process_died_holding_the_lock(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a shared limiter whose lock a killed worker took with it
    limiter = RateLimiter(slots=64, lock_timeout=0.05)
    spend(limiter, "key-a", 1, limit=1, now=NOW)

    def die_holding_the_lock() -> None:
        limiter._lock.acquire()
        os.kill(os.getpid(), signal.SIGKILL)

    victim = FORK.Process(target=die_holding_the_lock)
    victim.start()
    victim.join(60)
    assert victim.exitcode == -signal.SIGKILL
    # when
    with caplog.at_level(logging.ERROR, logger="ctxapi.ratelimit"):
        decisions = spend(limiter, "key-a", 3, limit=1, now=NOW)
    # then requests pass rather than hang, and the log says why, once for the cool-down
    assert {d.allowed for d in decisions} == {True}
    assert [r.getMessage() for r in caplog.records if "lock" in r.getMessage()] == [
        f"rate limiter lock not acquired in 0.05 s (a worker died holding it?): rate limits "
        f"are off in process {os.getpid()} for 30 s (restart the instance if this repeats)"
    ]


def test_a_lock_held_too_long_once_does_not_switch_limits_off_for_good() -> None:
    # given a limiter whose lock was once held past the timeout (a stalled worker)
    limiter = RateLimiter(slots=64, lock_timeout=0.05)
    limiter._lock.acquire()
    assert spend(limiter, "key-a", 1, limit=1, now=NOW)[0].allowed  # failed open
    limiter._lock.release()
    # when the cool-down is over
    limiter._open_until = 0.0
    decisions = spend(limiter, "key-a", 2, limit=1, now=NOW)
    # then the budget counts again
    assert [d.allowed for d in decisions] == [True, False]
