"""The learner's own identity on Home: display name (unique in the class), export, "forget
this browser" (a new id, same progress) and reset. Page layer of the name/identity parts
of study/db.py; ui/study.py keeps the id itself (cookie) and calls `identity_box`.

Cookie (ui/study.py: write_cookie): `genai_lab_learner` = a random 32-hex id, `path=/`,
`max-age` COOKIE_MAX_AGE_DAYS days (a course and its revision, not forever), `SameSite=Lax`,
and `Secure` whenever the page is served over https. It is set from the page's script, so it
cannot be HttpOnly (Streamlit sets no headers): the app never renders learner text as HTML.
The id is the only key to a learner's progress; it is not in the export, and "forget this
browser" moves the progress to a new id and retires the old one."""
from __future__ import annotations

import json

import streamlit as st

from study import db
from ui import inputs

NAME_KEY = "study.name"


def _save_name(lid: str) -> None:
    raw = st.session_state.get(NAME_KEY) or ""
    try:
        eng = db.engine()
        name = db.set_name(eng, lid, raw)
    except db.NameRefused as exc:
        st.session_state["_identity.msg"] = ("warning", str(exc))
        return
    except Exception as exc:  # noqa: BLE001 - the database did not answer
        st.session_state["_identity.msg"] = ("warning", f"The name was not saved ({type(exc).__name__}).")
        return
    st.session_state[NAME_KEY] = name or ""
    st.session_state["_identity.msg"] = (
        "success", f"Saved as {inputs.md_escape(name)}." if name else "Name removed: you are anonymous.")


def identity_box(lid: str, forget) -> None:
    """Inside Home's "Your name, export, reset" expander. `forget()` rotates the id (ui/study.py)."""
    st.markdown("You are anonymous unless you choose a display name: it is the only personal data stored, "
                "and the teacher view shows it next to your progress. A name is unique in the class "
                f"(\"Bea\" and \"bea\" are one name), 1-{db.NAME_MAX} characters.")
    if NAME_KEY not in st.session_state:
        try:
            st.session_state[NAME_KEY] = db.display_name(db.engine(), lid) or ""
        except Exception:  # noqa: BLE001
            st.session_state[NAME_KEY] = ""
    st.text_input("Display name (optional)", key=NAME_KEY, max_chars=db.NAME_MAX,
                  help=f"At most {db.NAME_MAX} characters; leave it empty to stay anonymous.")
    st.button("Save name", key="study.save_name", on_click=_save_name, args=(lid,))
    msg = st.session_state.pop("_identity.msg", None)
    if msg:
        getattr(st, msg[0])(msg[1])
    try:
        data = db.export_learner(db.engine(), lid)
    except Exception:  # noqa: BLE001
        data = json.dumps({"attempts": []})
    st.download_button("Export my progress (JSON)", data, file_name="genai-lab-progress.json",
                       mime="application/json", key="study.export")
    st.caption("Your browser keeps a random id in a cookie (about three months) so your progress survives a "
               "reload. Anyone holding that cookie holds your progress: on a shared computer, or if it may "
               "have been copied, forget this browser. Your progress moves to a new id; the old one stops "
               "working.")
    if st.button("Forget this browser (new id, keep my progress)", key="study.forget"):
        forget()
        st.success("Done: this browser has a new id, with your progress. The old id holds nothing now.")
