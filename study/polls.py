"""Class polls in the progress database: a short code read aloud from the projector, one
vote per learner and per client address (the address is stored hashed), and the tally the
projector draws. Tables live in study/db.py with the rest of the schema."""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from study.db import (CODE_LEN, _CODE_ALPHABET, PollError, _insert, _now, _read, polls, vote_clients,
                      votes)


# --------------------------------------------------------------------------- polls
@dataclass(frozen=True)
class Poll:
    code: str
    lesson: str
    question: str
    options: list[str]
    truth: str | None
    truth_note: str | None
    is_open: bool


def normalize_code(code: str | None) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())[:CODE_LEN]


def open_poll(eng: Engine, lesson: str, question: str, options: list[str], truth: str | None = None,
              truth_note: str | None = None) -> Poll:
    opts = [str(o)[:200] for o in options]
    if len(opts) < 2 or len(set(opts)) != len(opts):
        raise PollError("a poll needs at least two different options")
    for _ in range(20):
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LEN))
        with eng.begin() as c:
            if c.execute(select(polls.c.code).where(polls.c.code == code)).first() is not None:
                continue
            c.execute(polls.insert().values(code=code, lesson=lesson[:80], question=question, options=json.dumps(opts),
                                            truth=truth, truth_note=truth_note, is_open=True, created_at=_now()))
        return Poll(code, lesson, question, opts, truth, truth_note, True)
    raise PollError("could not find a free poll code")


def get_poll(eng: Engine, code: str) -> Poll | None:
    code = normalize_code(code)
    with _read(eng) as c:
        r = c.execute(select(polls).where(polls.c.code == code)).first()
    if r is None:
        return None
    return Poll(r.code, r.lesson, r.question, json.loads(r.options), r.truth, r.truth_note, bool(r.is_open))


def close_poll(eng: Engine, code: str) -> None:
    with eng.begin() as c:
        c.execute(polls.update().where(polls.c.code == normalize_code(code)).values(is_open=False))


def client_tag(address: str | None) -> str | None:
    """What a vote stores about the client address: a hash, never the address itself."""
    if not address:
        return None
    return hashlib.sha256(f"genai-lab-vote:{address}".encode()).hexdigest()[:40]


def vote(eng: Engine, code: str, voter: str, choice: str, client: str | None = None) -> None:
    """One vote per voter per poll, AND one per client address per poll: voting again (from
    the same learner id, or from the same address under a new id after clearing cookies)
    changes that vote instead of adding one. `client` is the address as ui/teacher.py reads
    it (X-Forwarded-For only from a trusted proxy); None counts by learner id only."""
    code = normalize_code(code)
    tag = client_tag(client)
    with eng.begin() as c:
        r = c.execute(select(polls.c.options, polls.c.is_open).where(polls.c.code == code)).first()
        if r is None:
            raise PollError(f"no poll with code {code!r}")
        if not r.is_open:
            raise PollError("this poll is closed")
        if choice not in json.loads(r.options):
            raise PollError("not one of the poll's options")
        values = dict(poll_code=code, voter=voter[:32], choice=choice, created_at=_now())
        ins = _insert(eng, votes)
        if ins is not None:
            c.execute(ins.values(**values).on_conflict_do_update(
                index_elements=["poll_code", "voter"], set_={"choice": choice, "created_at": values["created_at"]}))
        elif not c.execute(votes.update().where(votes.c.poll_code == code, votes.c.voter == voter)
                           .values(choice=choice, created_at=values["created_at"])).rowcount:
            c.execute(votes.insert().values(**values))
        if tag is not None:
            held = c.execute(select(vote_clients.c.voter).where(vote_clients.c.poll_code == code,
                                                                vote_clients.c.client == tag)).scalar()
            if held is None:
                c.execute(vote_clients.insert().values(poll_code=code, client=tag, voter=voter[:32]))
            elif held != voter[:32]:
                # This address voted before under another learner id: that vote is replaced.
                c.execute(votes.delete().where(votes.c.poll_code == code, votes.c.voter == held))
                c.execute(vote_clients.update().where(vote_clients.c.poll_code == code, vote_clients.c.client == tag)
                          .values(voter=voter[:32]))


def voters(eng: Engine, code: str) -> int:
    """How many distinct learners hold a vote in this poll (what the projector shows)."""
    with _read(eng) as c:
        return int(c.execute(select(func.count(func.distinct(votes.c.voter)))
                             .where(votes.c.poll_code == normalize_code(code))).scalar() or 0)


def tally(eng: Engine, code: str) -> dict[str, int]:
    """{option: votes}, every option present, in the poll's order."""
    poll = get_poll(eng, code)
    if poll is None:
        raise PollError(f"no poll with code {code!r}")
    counts = dict.fromkeys(poll.options, 0)
    with _read(eng) as c:
        for choice, n in c.execute(select(votes.c.choice, func.count()).where(votes.c.poll_code == poll.code)
                                   .group_by(votes.c.choice)):
            if choice in counts:
                counts[choice] = int(n)
    return counts


def vote_of(eng: Engine, code: str, voter: str) -> str | None:
    """The answer `voter` sent to poll `code` (None if none): the poll page shows it again
    after a reload."""
    with _read(eng) as c:
        return c.execute(select(votes.c.choice).where(votes.c.poll_code == normalize_code(code),
                                                      votes.c.voter == voter[:32])).scalar()
