"""Who may do what in a class (pure Python; the page layer is ui/teacher.py).

Teacher key. The teacher role is unlocked by a key that the person running the server sets,
in the environment (``GENAI_LAB_TEACHER_KEY``) or in Streamlit's ``.streamlit/secrets.toml``
(``teacher_key = "..."``). A typed key is compared with :func:`hmac.compare_digest` (constant
time), and tries are limited per browser session AND per client address (``TRIES_PER_MINUTE``
in any 60 s), so clearing cookies or opening a private window does not reset the limit. A
wrong key never locks out anyone else: the limit is per address, and learners need no key.
Without a configured key, teacher features work only from the server's own machine.

Client address. Streamlit reads the TCP peer of the websocket (never a header). Behind the
shipped HAProxy (``option forwardfor``, deploy/haproxy.cfg) every peer is the proxy, and the
learner's address is the last X-Forwarded-For entry that the proxy appended. A header is
believed ONLY when the direct peer is a trusted proxy: loopback, or an address/network listed
in ``GENAI_LAB_TRUSTED_PROXIES`` (comma-separated, e.g. ``172.16.0.0/12`` for compose's
network). Anything else could be forged by a learner, so it is ignored. Entries are read from
the right, skipping trusted proxies, so a learner who sends their own X-Forwarded-For only
adds entries to the LEFT of the one HAProxy appends.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import threading
import time
from collections import deque

ENV_KEY = "GENAI_LAB_TEACHER_KEY"
ENV_PROXIES = "GENAI_LAB_TRUSTED_PROXIES"
SECRET_NAME = "teacher_key"
TRIES_PER_MINUTE = 5
MIN_KEY_CHARS = 8


# --------------------------------------------------------------------------- teacher key
def configured_key(env: dict | None = None, secrets=None) -> str | None:
    """The teacher key: the environment first, then secrets.toml; None when neither is set
    (blank values count as unset)."""
    env = os.environ if env is None else env
    key = (env.get(ENV_KEY) or "").strip()
    if not key and secrets is not None:
        try:
            key = str(secrets.get(SECRET_NAME, "") or "").strip()
        except Exception:  # noqa: BLE001 - no secrets.toml, or one that does not parse
            key = ""
    return key or None


def key_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a typed key with the configured one (False when either is
    missing)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), expected.encode("utf-8"))


class RateLimiter:
    """At most `limit` events per `window` seconds for each name (a session id, an address).
    Process-wide and thread-safe; memory is bounded by forgetting the oldest names."""

    def __init__(self, limit: int, window: float = 60.0, max_names: int = 10_000, clock=time.monotonic):
        self.limit, self.window, self.max_names, self.clock = limit, window, max_names, clock
        self._events: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, name: str, now: float) -> deque:
        q = self._events.get(name)
        if q is None:
            if len(self._events) >= self.max_names:
                self._events.pop(next(iter(self._events)))
            q = self._events[name] = deque()
        while q and now - q[0] >= self.window:
            q.popleft()
        return q

    def allow(self, *names: str) -> bool:
        """Count one event for every name, or none (and return False) when any of them is
        already at the limit."""
        now = self.clock()
        with self._lock:
            qs = [self._recent(n, now) for n in names if n]
            if any(len(q) >= self.limit for q in qs):
                return False
            for q in qs:
                q.append(now)
            return True

    def wait_s(self, *names: str) -> float:
        """Seconds until `allow(*names)` can succeed again."""
        now = self.clock()
        with self._lock:
            waits = [self.window - (now - q[0]) for q in (self._recent(n, now) for n in names if n)
                     if len(q) >= self.limit]
        return max(waits, default=0.0)


KEY_TRIES = RateLimiter(TRIES_PER_MINUTE, 60.0)


# --------------------------------------------------------------------------- client address
def _networks(spec: str | None) -> list:
    out = []
    for part in (spec or "").split(","):
        part = part.strip()
        if part:
            try:
                out.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                continue
    return out


def _ip(text: str | None):
    if not text:
        return None
    text = text.strip()
    if text.startswith("[") and "]" in text:        # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:                      # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_trusted_proxy(addr: str | None, trusted: str | None = None) -> bool:
    ip = _ip(addr)
    if ip is None:
        return False
    if ip.is_loopback:
        return True
    nets = _networks(os.environ.get(ENV_PROXIES) if trusted is None else trusted)
    return any(ip in n for n in nets)


def client_address(peer: str | None, forwarded_for: str | None = None, trusted: str | None = None) -> str | None:
    """The learner's address: the TCP peer, or, when the peer is a trusted proxy, the
    rightmost X-Forwarded-For entry that is not itself a trusted proxy. None when unknown."""
    ip = _ip(peer)
    if ip is None:
        return None
    if not is_trusted_proxy(str(ip), trusted) or not forwarded_for:
        return str(ip)
    last = ip
    for entry in reversed([e for e in forwarded_for.split(",") if e.strip()]):
        hop = _ip(entry)
        if hop is None:
            return str(last)        # a garbled entry: believe nothing left of it
        if not is_trusted_proxy(str(hop), trusted):
            return str(hop)
        last = hop
    return str(last)                # every hop is a trusted proxy: the leftmost one of them


def is_local(address: str | None) -> bool:
    """The server's own machine (loopback)."""
    ip = _ip(address)
    return ip is not None and ip.is_loopback


# --------------------------------------------------------------------------- votes
VOTES_PER_WINDOW, VOTE_WINDOW_S = 6, 10.0
# A client (a browser session, and separately an address) may send at most 6 answers in any
# 10 s: enough to change one's mind, and a script sending 1,000 a second costs the server 6
# database writes per 10 s, the rest refused in memory (bench/poll_flood.py).
VOTES = RateLimiter(VOTES_PER_WINDOW, VOTE_WINDOW_S)
ENV_PER_ADDRESS = "GENAI_LAB_ONE_VOTE_PER_ADDRESS"


def one_vote_per_address(env: dict | None = None) -> bool:
    """On by default. Switch it off ("0") when a whole class reaches the server through ONE
    address (a school NAT in front of a server on the internet): every learner would share
    one vote. Votes are then one per learner id only (clearing cookies adds a vote)."""
    env = os.environ if env is None else env
    return (env.get(ENV_PER_ADDRESS) or "1").strip().lower() not in ("0", "off", "false", "no")
