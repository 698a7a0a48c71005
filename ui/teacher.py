"""The teacher role (page layer of study/access.py).

`is_teacher()` is True for a browser session that typed the configured teacher key (the
unlock lasts for that session only), or, when no key is configured, for a browser on the
server's own machine. Teacher controls (the poll panel on lessons, the /teacher page) are
drawn only when it is True; learners never see them. `client_address()` is the learner's
address as study/access.py reads it (X-Forwarded-For only from a trusted proxy)."""
from __future__ import annotations

import streamlit as st

from study import access

_OK = "_teacher.ok"          # underscore: never mirrored into a link, never set by one
KEY_WIDGET = "study.teacher_key"


def _peer() -> tuple[str | None, str | None]:
    """(TCP peer of this session's websocket, X-Forwarded-For header). A run with no TCP peer
    (AppTest, a bare script, a unix socket) runs on the server's own machine: loopback."""
    try:
        from streamlit.runtime.context import _get_client_context

        cc = _get_client_context()
    except Exception:  # noqa: BLE001 - Streamlit internals moved
        cc = None
    try:
        xff = st.context.headers.get("X-Forwarded-For")
    except Exception:  # noqa: BLE001
        xff = None
    peer = getattr(cc, "remote_ip", None)
    # No TCP peer at all (AppTest's stand-in client; a server on a unix socket behind a local
    # proxy): this machine.
    return (peer if isinstance(peer, str) and peer else "127.0.0.1"), xff


def client_address() -> str | None:
    peer, xff = _peer()
    return access.client_address(peer, xff)


def session_name() -> str:
    """A name for this browser session in the rate limits (a random token kept in its state:
    AppTest gives every session the same Streamlit session id)."""
    import secrets

    return "session:" + st.session_state.setdefault("_teacher.sid", secrets.token_hex(8))


def configured_key() -> str | None:
    return access.configured_key(secrets=st.secrets)


def is_teacher() -> bool:
    if st.session_state.get(_OK):
        return True
    if configured_key() is None:
        return access.is_local(client_address())
    return False


def _try_key() -> None:
    given = st.session_state.get(KEY_WIDGET) or ""
    st.session_state[KEY_WIDGET] = ""           # never keep the key in a widget
    if not given.strip():
        return
    names = (session_name(), "addr:" + (client_address() or "?"))
    if not access.KEY_TRIES.allow(*names):
        wait = access.KEY_TRIES.wait_s(*names)
        st.session_state["_teacher.msg"] = ("warning", f"Too many tries: wait {wait:.0f} s and try again "
                                                       f"(at most {access.TRIES_PER_MINUTE} a minute).")
        return
    if access.key_matches(given, configured_key()):
        st.session_state[_OK] = True
        st.session_state["_teacher.msg"] = ("success", "Teacher controls unlocked for this browser tab.")
    else:
        st.session_state["_teacher.msg"] = ("error", "That is not the teacher key.")


def how_to_set_key() -> str:
    return (f"To teach from another machine, set a teacher key: the environment variable "
            f"`{access.ENV_KEY}` or `{access.SECRET_NAME} = \"...\"` in `.streamlit/secrets.toml`, "
            f"then restart the server (README, *Running a class*).")


def gate() -> bool:
    """On the /teacher page: True when this session is a teacher; otherwise the unlock form
    (or, with no key configured, how to set one) and False."""
    if is_teacher():
        c1, c2 = st.columns([4, 1])
        if configured_key() is None:
            c1.caption("🔓 Teacher features are open because you are on the server's own machine and no "
                       "teacher key is set. " + how_to_set_key())
        elif c2.button("Lock", key="study.teacher_lock", help="Lock the teacher controls in this tab."):
            st.session_state.pop(_OK, None)
            st.rerun()
        return True
    if configured_key() is None:
        st.warning("The teacher view works only on the server's own machine while no teacher key is set. "
                   + how_to_set_key())
        return False
    with st.form("study-teacher-unlock", border=True):
        st.text_input("Teacher key", type="password", key=KEY_WIDGET,
                      help="Set by whoever runs the server. It unlocks this browser tab only.")
        st.form_submit_button("Unlock", on_click=_try_key)
    msg = st.session_state.pop("_teacher.msg", None)
    if msg:
        getattr(st, msg[0])(msg[1])
    st.caption("Learners do not need this page: their own progress is on 🏠 Home.")
    return bool(st.session_state.get(_OK))

