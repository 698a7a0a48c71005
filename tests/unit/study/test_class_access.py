"""Issue 24: the teacher key, client addresses behind HAProxy, one learner one vote, unique
display names, and a learner id that can be rotated (study/access.py, study/db.py). Every test
that touches the database runs on SQLite and on a throwaway PostgreSQL (the class's tables:
votes, vote_clients, learner_names, retired_ids)."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import create_engine

from study import access, db, polls
from tests.pg import pg_bin, throwaway_postgres


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request):
    """The database a class runs on: SQLite (the default) or PostgreSQL (across replicas)."""
    if request.param == "sqlite":
        yield None
        return
    if pg_bin() is None:
        pytest.fail("PostgreSQL is not installed: `make test` installs it (apt-get install postgresql).")
    with throwaway_postgres() as url:
        yield url


@pytest.fixture()
def eng(backend, tmp_path):
    """A fresh, empty database for each test, on each backend (a PostgreSQL database per test)."""
    if backend is None:
        e = db.make_engine(f"sqlite:///{tmp_path / 'class.sqlite'}")
        yield e
        e.dispose()
        return
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(backend, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name}")
    e = db.make_engine(backend.replace("/postgres?", f"/{name}?"))
    yield e
    e.dispose()
    with admin.connect() as c:
        c.exec_driver_sql(f"DROP DATABASE {name}")
    admin.dispose()


# --------------------------------------------------------------------------- teacher key
class _Secrets(dict):
    pass


def test_key_from_env_then_secrets_blank_is_unset():
    assert access.configured_key({access.ENV_KEY: " k3y-from-env "}, _Secrets(teacher_key="s")) == "k3y-from-env"
    assert access.configured_key({}, _Secrets(teacher_key="from-secrets")) == "from-secrets"
    assert access.configured_key({access.ENV_KEY: "  "}, _Secrets()) is None

    class Broken:
        def get(self, *a):
            raise FileNotFoundError("no secrets.toml")
    assert access.configured_key({}, Broken()) is None


def test_key_matches_in_constant_time_and_never_on_empty():
    assert access.key_matches("correct horse", "correct horse")
    assert access.key_matches("  correct horse ", "correct horse")
    assert not access.key_matches("correct hors", "correct horse")
    assert not access.key_matches("", "")
    assert not access.key_matches("x", None)
    assert not access.key_matches("ключ🙂", "ключ")


def test_rate_limit_per_session_and_per_address():
    t = [0.0]
    lim = access.RateLimiter(5, 60.0, clock=lambda: t[0])
    assert all(lim.allow("session:a", "addr:1.2.3.4") for _ in range(5))
    assert not lim.allow("session:a", "addr:1.2.3.4")
    # cookies cleared: a new session, same address -> still refused
    assert not lim.allow("session:b", "addr:1.2.3.4")
    # another learner elsewhere is not locked out
    assert lim.allow("session:c", "addr:5.6.7.8")
    assert 0 < lim.wait_s("session:b", "addr:1.2.3.4") <= 60
    t[0] = 61.0
    assert lim.allow("session:b", "addr:1.2.3.4")


def test_rate_limiter_memory_is_bounded():
    lim = access.RateLimiter(1, 60.0, max_names=100)
    for i in range(1000):
        lim.allow(f"addr:{i}")
    assert len(lim._events) <= 100


# --------------------------------------------------------------------------- addresses
@pytest.mark.parametrize("peer, xff, trusted, want", [
    ("203.0.113.7", None, "", "203.0.113.7"),
    ("203.0.113.7", "127.0.0.1", "", "203.0.113.7"),            # a learner forging XFF directly: ignored
    ("127.0.0.1", "198.51.100.4", "", "198.51.100.4"),           # HAProxy on the same machine
    ("127.0.0.1", "127.0.0.1, 198.51.100.4", "", "198.51.100.4"),  # forged left entry, real right one
    ("172.18.0.2", "198.51.100.4", "172.16.0.0/12", "198.51.100.4"),  # compose network proxy
    ("172.18.0.2", "198.51.100.4", "", "172.18.0.2"),            # proxy not trusted: the peer
    ("127.0.0.1", None, "", "127.0.0.1"),
    ("127.0.0.1", "127.0.0.1", "", "127.0.0.1"),                 # the teacher's own machine through HAProxy
    ("127.0.0.1", "not-an-ip, 198.51.100.4", "", "198.51.100.4"),
    ("127.0.0.1", "198.51.100.4, garbage", "", "127.0.0.1"),
    ("::1", "2001:db8::5", "", "2001:db8::5"),
    (None, "198.51.100.4", "", None),
])
def test_client_address_behind_haproxy(peer, xff, trusted, want):
    assert access.client_address(peer, xff, trusted) == want


def test_is_local():
    assert access.is_local("127.0.0.1") and access.is_local("::1")
    assert not access.is_local("192.168.1.10") and not access.is_local(None)


def test_haproxy_appends_forwarded_for():
    from pathlib import Path

    cfg = (Path(__file__).resolve().parents[3] / "deploy" / "haproxy.cfg").read_text()
    assert "option forwardfor" in cfg


# --------------------------------------------------------------------------- one learner, one vote
def test_five_cookie_clears_from_one_client_count_one_vote(eng):
    poll = polls.open_poll(eng, "rag", "Q?", ["a", "b"])
    ids = [db.new_learner_id() for _ in range(6)]
    for lid in ids[:6]:          # the first id, then five cookie clears: a new id each time
        polls.vote(eng, poll.code, lid, "a", client="198.51.100.4")
    assert polls.tally(eng, poll.code) == {"a": 1, "b": 0}
    assert polls.voters(eng, poll.code) == 1
    polls.vote(eng, poll.code, db.new_learner_id(), "b", client="198.51.100.5")   # another laptop
    assert polls.tally(eng, poll.code) == {"a": 1, "b": 1} and polls.voters(eng, poll.code) == 2
    # the latest vote from the address is the one counted
    polls.vote(eng, poll.code, db.new_learner_id(), "b", client="198.51.100.4")
    assert polls.tally(eng, poll.code) == {"a": 0, "b": 2}


def test_without_address_one_vote_per_learner_id(eng):
    poll = polls.open_poll(eng, "rag", "Q?", ["a", "b"])
    lid = db.new_learner_id()
    for choice in "abab":
        polls.vote(eng, poll.code, lid, choice)
    assert polls.tally(eng, poll.code) == {"a": 0, "b": 1}


def test_the_vote_table_never_holds_an_address(eng):
    poll = polls.open_poll(eng, "rag", "Q?", ["a", "b"])
    polls.vote(eng, poll.code, db.new_learner_id(), "a", client="198.51.100.4")
    with eng.connect() as c:
        rows = [tuple(r) for r in c.execute(db.vote_clients.select())]
    assert "198.51.100.4" not in repr(rows)


def test_missing_and_closed_polls(eng):
    with pytest.raises(polls.PollError, match="no poll"):
        polls.vote(eng, "ZZZZZ", db.new_learner_id(), "a", client="1.2.3.4")
    poll = polls.open_poll(eng, "rag", "Q?", ["a", "b"])
    polls.close_poll(eng, poll.code)
    with pytest.raises(polls.PollError, match="closed"):
        polls.vote(eng, poll.code, db.new_learner_id(), "a", client="1.2.3.4")
    assert polls.voters(eng, poll.code) == 0


def test_per_address_rule_can_be_switched_off_for_a_nat():
    assert access.one_vote_per_address({})
    assert not access.one_vote_per_address({access.ENV_PER_ADDRESS: "0"})


# --------------------------------------------------------------------------- names
def test_names_unique_case_and_whitespace_insensitive(eng):
    a, b = db.new_learner_id(), db.new_learner_id()
    assert db.set_name(eng, a, "  Bea   Smith ") == "Bea Smith"
    for taken in ("bea smith", "BEA  SMITH", " Bea\tSmith", "ＢＥＡ smith"):
        with pytest.raises(db.NameRefused, match="already taken"):
            db.set_name(eng, b, taken)
    assert db.display_name(eng, b) is None
    assert db.set_name(eng, a, "bea smith") == "bea smith"     # one's own name, new case: fine
    db.set_name(eng, a, "")                                     # removed: free again
    assert db.set_name(eng, b, "Bea Smith") == "Bea Smith"


def test_names_stored_before_uniqueness_are_compared_too(eng):
    old = db.new_learner_id()
    with eng.begin() as c:
        c.execute(db.learners.insert().values(id=old, display_name="Grace", created_at=db._now()))
    with pytest.raises(db.NameRefused, match="taken"):
        db.set_name(eng, db.new_learner_id(), "grace")


@pytest.mark.parametrize("raw, want", [
    ("🦊 Fox", "🦊 Fox"),
    ("👩‍👩‍👧 fam", "👩‍👩‍👧 fam"),                          # ZWJ sequence kept whole
    ("مريم", "مريم"),                                      # right-to-left: kept as typed
    ("‮Eve", "Eve"),                                  # bidi override dropped
    ("x" * 40, "x" * 40),
])
def test_emoji_and_right_to_left_names(eng, raw, want):
    assert db.set_name(eng, db.new_learner_id(), raw) == want


@pytest.mark.parametrize("raw, reason", [
    ("     ", "visible character"),
    ("\u200b\u200b", "visible character"),
    ("\u202e", "visible character"),
    ("x" * 41, "at most 40"),
    ("x" * 500, "at most 40"),
])
def test_refused_names_have_a_reason(eng, raw, reason):
    with pytest.raises(db.NameRefused, match=reason):
        db.set_name(eng, db.new_learner_id(), raw)


# --------------------------------------------------------------------------- identity
def test_export_has_no_learner_id(eng):
    lid = db.new_learner_id()
    db.set_name(eng, lid, "Ada")
    db.record_answer(eng, lid, "rag", "q1", "x", True)
    out = db.export_learner(eng, lid)
    assert lid not in out
    assert json.loads(out)["display_name"] == "Ada"


def test_rotation_keeps_progress_and_the_old_id_gives_nothing(eng):
    old = db.new_learner_id()
    db.set_name(eng, old, "Bea")
    db.record_answer(eng, old, "rag", "q1", "x", True)
    db.record_answer(eng, old, "rag", "q2", "y", False)
    poll = polls.open_poll(eng, "rag", "Q?", ["a", "b"])
    polls.vote(eng, poll.code, old, "a", client="1.2.3.4")
    new = db.rotate_learner(eng, old)
    assert new != old and db.valid_learner_id(new)
    assert db.solved(eng, new) == {"rag": {"q1"}} and len(db.attempts(eng, new)) == 2
    assert db.display_name(eng, new) == "Bea"
    assert polls.tally(eng, poll.code)["a"] == 1 and polls.voters(eng, poll.code) == 1
    # the old id: nothing, and retired for good
    assert db.solved(eng, old) == {} and db.attempts(eng, old) == [] and db.display_name(eng, old) is None
    assert db.is_retired(eng, old) and not db.is_retired(eng, new)
    # the name stays Bea's: nobody else can take it
    with pytest.raises(db.NameRefused):
        db.set_name(eng, db.new_learner_id(), "bea")


def test_reset_frees_the_name(eng):
    lid = db.new_learner_id()
    db.set_name(eng, lid, "Cy")
    db.reset_learner(eng, lid)
    assert db.set_name(eng, db.new_learner_id(), "cy") == "cy"


# --------------------------------------------------------------------------- teacher view rows
def test_anonymous_row_counts_learners_with_only_wrong_answers(eng):
    right, wrong = db.new_learner_id(), db.new_learner_id()
    db.record_answer(eng, right, "rag", "q1", "x", True)
    db.record_answer(eng, wrong, "rag", "q1", "y", False)
    named = db.new_learner_id()
    db.set_name(eng, named, "Ng")
    db.record_answer(eng, named, "rag", "q1", "y", False)
    rows = db.class_progress(eng)
    anon = [r for r in rows if r.get("anonymous")]
    assert anon and anon[0]["anonymous"] == 2 and "2 learners" in anon[0]["name"]
    assert [r["name"] for r in rows if not r.get("anonymous")] == ["Ng"]
