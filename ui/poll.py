"""Live class polls (page layer). The teacher opens a poll from a lesson's question (the
truth comes from the lesson's own function, study/checks.py); learners answer on the
Class poll page with a short code; the projector shows the answers live beside the truth.
Polls live in the progress database, so several servers sharing one database (Postgres)
see the same poll."""
from __future__ import annotations

import secrets

import plotly.graph_objects as go
import streamlit as st

from lessons import course
from study import access, polls, questions
from ui import charts, inputs
from ui import study as study_ui
from ui import teacher as teacher_ui

_OPEN = "study.poll_codes"     # {lesson url: code} polls this session opened
_PROBLEM = "_study.poll_problem"   # what went wrong opening a poll, shown once
POLL_URL = "poll"


def results_figure(counts: dict[str, int], truth: str | None, reveal: bool) -> go.Figure:
    labels = list(counts)
    right = [bool(reveal and l == truth) for l in labels]
    fig = go.Figure(go.Bar(x=[counts[l] for l in labels], y=labels, orientation="h",
                           marker_color=[charts.RIGHT if r else charts.OKABE_ITO["sky_blue"] for r in right],
                           marker_pattern_shape=["" if r else "/" for r in right] if reveal else None,
                           text=[f"{counts[l]} ✓ right" if r else counts[l] for l, r in zip(labels, right)],
                           textposition="auto"))
    fig.update_layout(height=90 + 48 * len(labels), margin=dict(l=10, r=10, t=10, b=30),
                      xaxis_title="answers", yaxis=dict(autorange="reversed"), font=dict(size=18))
    return fig


def join_link(code: str) -> str | None:
    from urllib.parse import urlsplit

    url = st.context.url
    here = urlsplit(url if isinstance(url, str) else "")
    if not here.netloc:
        return None
    parts = [p for p in here.path.split("/") if p]
    known = {l.url for l in course.discover()}
    if parts and parts[-1] in known:
        parts = parts[:-1]
    prefix = "/".join(parts)
    return f"{here.scheme}://{here.netloc}/" + (prefix + "/" if prefix else "") + f"{POLL_URL}?code={code}"


def _live(code: str) -> None:
    """The projector view of one poll, refreshed every 2 seconds."""
    eng = study_ui.engine()
    if eng is None:
        return
    poll = polls.get_poll(eng, code)
    if poll is None:
        st.warning("This poll no longer exists.")
        return
    counts = polls.tally(eng, code)
    reveal = st.session_state.get(f"study.reveal.{code}", False)
    left, right = st.columns([3, 2])
    with left:
        charts.show(results_figure(counts, poll.truth, reveal), key=f"study-poll-chart-{code}")
    with right:
        st.metric("learners who answered", polls.voters(eng, code),
                  help="Distinct learners: one vote per learner id and per client address.")
        if reveal and poll.truth is not None:
            st.success(f"The lesson says: **{inputs.md_escape(poll.truth)}**")
            if poll.truth_note:
                st.caption(poll.truth_note)
        else:
            st.caption("The answer is hidden until you reveal it.")


def poll_order(q: questions.Question) -> list[str]:
    """The option texts of a new poll, shuffled once for this poll: the order is stored with
    the poll, so every phone and the projector show the same order, and the right answer's
    place in the file gives nothing away. Votes are option texts, which map back to ids."""
    return [o.text for o in questions.shuffled(q.options, "poll", secrets.token_hex(8))]


def _open_poll(url: str, qs: list[questions.Question]) -> None:
    """The Open-the-poll button's callback. A callback runs before the script, so the poll opens
    even when another rerun (a component's value arriving, a second click) interrupts the run
    that the click started; code after ``if st.button(...)`` would be skipped then, and the
    click lost."""
    q = qs[st.session_state.get(f"study.poll_pick.{url}") or 0]
    eng = study_ui.engine()
    if eng is None:
        st.session_state[_PROBLEM] = "The progress database is not available: no poll can be opened."
        return
    try:
        truth = str(study_ui.truth(q))
    except Exception as exc:  # noqa: BLE001 - e.g. a model missing on this machine
        truth = None
        st.session_state[_PROBLEM] = (f"The true answer could not be computed here ({type(exc).__name__}); "
                                      "the poll runs without it.")
    poll = polls.open_poll(eng, url, q.text, poll_order(q), truth=truth, truth_note=q.explain)
    st.session_state.setdefault(_OPEN, {})[url] = poll.code


def teacher_panel(lesson: course.Lesson) -> None:
    """On a lesson page: open a poll from one of the lesson's questions and show it live.
    Teachers only (ui/teacher.py): a learner's browser never draws it."""
    if not teacher_ui.is_teacher():
        return
    qs = [q for q in questions.for_lesson(lesson.url) if q.pollable]
    if not qs:
        return
    codes = st.session_state.setdefault(_OPEN, {})
    with st.expander("📊 Ask the class: a live poll", expanded=lesson.url in codes):
        code = codes.get(lesson.url)
        if code is None:
            st.caption("Open a poll from one of this lesson's questions. Learners answer from their own "
                       "browsers with a short code; the chart fills in live, next to what the lesson computes.")
            st.selectbox("Question", range(len(qs)), format_func=lambda i: qs[i].text[:120],
                         key=f"study.poll_pick.{lesson.url}")
            st.button("Open the poll", key=f"study.poll_open.{lesson.url}", type="primary",
                      on_click=_open_poll, args=(lesson.url, qs))
            if problem := st.session_state.pop(_PROBLEM, None):
                st.warning(problem)
            return
        if problem := st.session_state.pop(_PROBLEM, None):
            st.warning(problem)
        poll = polls.get_poll(study_ui.engine(), code) if study_ui.engine() is not None else None
        if poll is None:
            codes.pop(lesson.url, None)
            st.rerun()
        st.markdown(f"### Join code: `{code}`")
        link = join_link(code)
        st.markdown(f"Learners open the **Class poll** page and type the code"
                    + (f", or open `{link}`" if link else "") + ".")
        st.markdown(f"**{inputs.md_escape(poll.question)}**")
        c1, c2 = st.columns(2)
        c1.toggle("Reveal the answer", key=f"study.reveal.{code}")
        if c2.button("Close this poll", key=f"study.poll_close.{lesson.url}"):
            polls.close_poll(study_ui.engine(), code)
            codes.pop(lesson.url, None)
            st.rerun()
        st.fragment(_live, run_every=2)(code)


def learner_view() -> None:
    """The Class poll page: join with a code, answer once (answering again changes it)."""
    eng = study_ui.engine()
    if eng is None:
        return
    default = polls.normalize_code(st.query_params.get("code", ""))
    raw = st.text_input("Poll code", value=default, key="study.join_code", placeholder="e.g. K7QPX")
    code = polls.normalize_code(inputs.clean_text(raw, max_chars=12, what="poll code", allow_empty=True))
    if not code:
        st.info("Type the code shown on the projector.")
        return
    poll = polls.get_poll(eng, code)
    if poll is None:
        st.warning(f"No poll has the code {code}. Check the projector.")
        return
    st.subheader(inputs.md_escape(poll.question))
    sent = _sent(eng, code)
    if not poll.is_open:
        st.info("This poll is closed." + (f" You answered: {inputs.md_escape(sent)}." if sent is not None else ""))
        return
    index = poll.options.index(sent) if sent in poll.options else None
    choice = st.radio("Your answer", poll.options, index=index, key=f"study.vote.{code}")
    if st.button("Send my answer", key=f"study.send.{code}", type="primary", disabled=choice is None):
        try:
            _send_vote(eng, code, choice)
            st.session_state[f"study.voted.{code}"] = sent = choice
        except polls.PollError as exc:
            st.warning(str(exc))
    if sent is not None:
        st.success(f"Answer recorded: {inputs.md_escape(sent)}. Watch the projector; you may change it until "
                   "the poll closes.")


def _sent(eng, code: str) -> str | None:
    """The answer this learner already sent to the poll: from this session, else from the
    database (by learner id and poll code), so a reload still shows it."""
    sent = st.session_state.get(f"study.voted.{code}")
    if sent is None:
        try:
            sent = polls.vote_of(eng, code, study_ui.learner_id())
        except Exception:  # noqa: BLE001 - the poll still works without the reminder
            sent = None
    return sent


def _send_vote(eng, code: str, choice: str) -> None:
    """One learner, one vote (README, *One learner, one vote*): the vote is keyed by the learner
    id AND by the client address (read behind the shipped HAProxy by ui/teacher.py), so a
    learner who clears cookies or opens a private window replaces their vote instead of adding
    one. A flood from one client is refused in memory (study/access.VOTES)."""
    addr = teacher_ui.client_address()
    if not access.VOTES.allow(teacher_ui.session_name(), "addr:" + (addr or "?")):
        raise polls.PollError("Too many answers in a few seconds: wait a moment, then send yours again.")
    polls.vote(eng, code, study_ui.learner_id(), choice,
            client=addr if access.one_vote_per_address() else None)
