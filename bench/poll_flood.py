"""1,000 poll votes in about a second from ONE client, while another learner keeps using the
app: is the flood bounded, and does the other learner stay responsive?

The flood goes through exactly what the Class poll page does for a vote (ui/poll.py
`_send_vote`): the in-memory per-session and per-address limit (study/access.VOTES), then
polls.vote with the client address. The other learner, from another address, repeats one
interaction the way a page does it: send a vote, read the tally and distinct voters, record a
question answer and read their progress (SQLite, WAL, the default database). Printed as JSON:
p95/p50 of the other learner's interaction alone and during the flood, how many flood votes
reached the database, the flood's wall time, and the process CPU time.

    python bench/poll_flood.py
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from study import access, db, polls  # noqa: E402

FLOOD_VOTES = 1_000


def _interaction(eng, code: str, lid: str, i: int) -> float:
    t = time.perf_counter()
    polls.vote(eng, code, lid, "b" if i % 2 else "a", client="198.51.100.2")   # a few a second: under the limit
    polls.tally(eng, code)
    polls.voters(eng, code)
    db.record_answer(eng, lid, "rag", "q1", "x", bool(i % 2))
    db.solved(eng, lid)
    return (time.perf_counter() - t) * 1000


def _p(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 2)


def _flood_run(eng, code: str, learner: str, guarded: bool) -> dict:
    access.VOTES = access.RateLimiter(access.VOTES_PER_WINDOW, access.VOTE_WINDOW_S)
    written, refused, flood_wall = [0], [0], [0.0]

    def flood():
        start = time.perf_counter()
        for i in range(FLOOD_VOTES):
            lid = db.new_learner_id()          # a fresh "cookie" every time
            if not guarded or access.VOTES.allow(f"session:{lid}", "addr:203.0.113.66"):
                polls.vote(eng, code, lid, "a", client="203.0.113.66")
                written[0] += 1
            else:
                refused[0] += 1
            delay = start + (i + 1) / FLOOD_VOTES - time.perf_counter()   # ~1,000 a second
            if delay > 0:
                time.sleep(delay)
        flood_wall[0] = time.perf_counter() - start

    cpu0, wall0 = time.process_time(), time.perf_counter()
    th = threading.Thread(target=flood)
    th.start()
    during, i = [], 0
    while th.is_alive():
        during.append(_interaction(eng, code, learner, i))
        i += 1
    th.join()
    return {"flood_votes_written": written[0], "flood_votes_refused_in_memory": refused[0],
            "flood_wall_s": round(flood_wall[0], 3), "distinct_voters_after": polls.voters(eng, code),
            "other_p50_ms": _p(during, 0.5), "other_p95_ms": _p(during, 0.95),
            "other_interactions": len(during),
            "wall_s": round(time.perf_counter() - wall0, 3), "cpu_s": round(time.process_time() - cpu0, 3)}


def measure() -> dict:
    folder = tempfile.mkdtemp(prefix="genai-lab-flood-")
    eng = db.make_engine(f"sqlite:///{folder}/classroom.sqlite")
    learner = db.new_learner_id()
    poll = polls.open_poll(eng, "rag", "Which?", ["a", "b"])
    for i in range(10):                                   # warm up
        _interaction(eng, poll.code, learner, i)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    alone = [_interaction(eng, poll.code, learner, i) for i in range(60)]
    out = {"flood_votes_sent": FLOOD_VOTES, "limit": f"{access.VOTES_PER_WINDOW} per {access.VOTE_WINDOW_S:g} s per client",
           "other_alone": {"p50_ms": _p(alone, 0.5), "p95_ms": _p(alone, 0.95), "n": len(alone),
                           "wall_s": round(time.perf_counter() - wall0, 3),
                           "cpu_s": round(time.process_time() - cpu0, 3)},
           "flood_with_limit": _flood_run(eng, polls.open_poll(eng, "rag", "Which?", ["a", "b"]).code, learner, True),
           # The same flood with the in-memory limit switched off (what the limit saves).
           "flood_without_limit": _flood_run(eng, polls.open_poll(eng, "rag", "Which?", ["a", "b"]).code, learner, False),
           "db": "sqlite (WAL), one process", "cpus": os.cpu_count()}
    return out


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
