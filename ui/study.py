"""Page layer for self-study: who the learner is (an anonymous id in a cookie, an optional
chosen display name), the questions box under every lesson, and progress on Home.

Rendered once for every page by app.py (`questions_box` after the page runs); pages need
no code of their own. Widget keys start with `study.` so share links never mirror them."""
from __future__ import annotations

import json

import streamlit as st

from lessons import course
from study import checks, db, questions, review
from ui import common, identity, inputs, loaders

COOKIE = "genai_lab_learner"
_LEARNER = "study.learner"
_COOKIE_PENDING = "study.cookie_pending"


# --------------------------------------------------------------------------- database
def engine():
    """The process-wide engine, or None (with a note on the page) when the database is down."""
    try:
        return db.engine()
    except Exception as exc:  # noqa: BLE001 - any driver error: the lesson must still work
        st.caption(f"⚠️ Progress is not being saved: the database is unavailable ({type(exc).__name__}).")
        return None


def _db_call(fn, *args, default=None):
    eng = engine()
    if eng is None:
        return default
    try:
        return fn(eng, *args)
    except Exception as exc:  # noqa: BLE001
        st.caption(f"⚠️ The progress database did not answer ({type(exc).__name__}); your answer was not saved.")
        return default


# --------------------------------------------------------------------------- identity
def learner_id() -> str:
    """This browser's learner id: from the cookie if it holds a valid one, else a new
    random id (written to the cookie by `write_cookie`)."""
    ss = st.session_state
    if _LEARNER not in ss:
        try:
            cid = st.context.cookies.get(COOKIE)
        except Exception:  # noqa: BLE001 - no browser context (bare script)
            cid = None
        if isinstance(cid, str) and db.valid_learner_id(cid) and not _retired(cid):
            ss[_LEARNER] = cid
        else:
            ss[_LEARNER] = db.new_learner_id()
            ss[_COOKIE_PENDING] = True
    return ss[_LEARNER]


COOKIE_MAX_AGE_DAYS = 90


def _retired(cid: str) -> bool:
    """An id given up by "forget this browser" is never accepted again (a copied cookie)."""
    try:
        return db.is_retired(db.engine(), cid)
    except Exception:  # noqa: BLE001 - no database: nothing is stored under any id anyway
        return False


def forget_browser() -> str:
    """Move this learner's progress to a new id, retire the old one, rewrite the cookie."""
    new = db.rotate_learner(db.engine(), learner_id())
    st.session_state[_LEARNER] = new
    st.session_state[_COOKIE_PENDING] = True
    return new


def write_cookie() -> None:
    """Store the learner id in a first-party cookie (COOKIE_MAX_AGE_DAYS; flags in ui/identity.py),
    so progress survives a reload. The value is our own 32-hex id (validated), never learner text."""
    if st.session_state.pop(_COOKIE_PENDING, False):
        lid = learner_id()
        assert db.valid_learner_id(lid)
        age = COOKIE_MAX_AGE_DAYS * 86400
        st.html(f"<script>document.cookie = '{COOKIE}={lid}; path=/; max-age={age}; SameSite=Lax'"
                " + (location.protocol === 'https:' ? '; Secure' : '');</script>",
                unsafe_allow_javascript=True)


# --------------------------------------------------------------------------- checks
class _CachedModels:
    """The shared read-only models, as study.checks wants them."""

    def smollm2(self):
        return loaders.smollm2(common.device())

    def minilm(self):
        return loaders.minilm(common.device())

    def tiny_gpt(self):
        return loaders.tiny_gpt(common.device())

    def gpt2_tokenizer(self):
        return loaders.gpt2_tokenizer()


def truth(q: questions.Question):
    """The right answer: the right option's text (choice) or what the lesson's function
    computes (predict: a number, or the text of the right option)."""
    if q.kind == "choice":
        return q.right.text
    return checks.run(q.check, q.params, _CachedModels())


# --------------------------------------------------------------------------- questions box
def _result_key(q: questions.Question) -> str:
    return f"study.result.{q.lesson}.{q.id}"


def option_order(q: questions.Question, learner: str) -> list[str]:
    """This learner's order of the question's option ids: shuffled, so the right answer's
    position gives nothing away, and stable for (learner, lesson, question), so a reload or
    another server shows the same order."""
    return [o.id for o in questions.shuffled(q.options, learner, q.lesson, q.id)]


def _submit(q: questions.Question, value, solved: set[str]) -> None:
    """Grade one answer and store it: options by their id (never a position), numbers as typed."""
    if q.kind == "choice":
        right = truth(q)
    else:
        with st.spinner("Computing the true value with the lesson's own function ..."):
            right = truth(q)
    ok = questions.grade(q, value, right)
    if q.options:
        picked = q.option(value)
        stored, shown = picked.id, picked.text
    else:
        stored = shown = value
    st.session_state[_result_key(q)] = {"ok": ok, "prediction": shown, "picked": stored if q.options else None,
                                        "truth": right}
    if ok:
        solved.add(q.id)
    _db_call(db.record_answer, learner_id(), q.lesson, q.id, str(stored), ok)
    _db_call(review.record, learner_id(), q.lesson, q.id, ok)


def _result(q: questions.Question, res: dict) -> None:
    """Right or not, the feedback of the wrong option picked, then the explanation."""
    truth_txt = questions.fmt_truth(res["truth"])
    mine = questions.fmt_truth(res["prediction"]) if not isinstance(res["prediction"], str) else res["prediction"]
    unit = f" {q.unit}" if q.unit else ""
    if q.numeric:
        tol = f" (counted right within ±{questions.fmt_truth(q.tolerance)})" if q.tolerance else ""
        msg = f"You predicted **{inputs.md_escape(mine)}{unit}**; the lesson computes **{truth_txt}{unit}**{tol}."
    else:
        msg = f"You answered **{inputs.md_escape(mine)}**; the answer is **{inputs.md_escape(truth_txt)}**."
    (st.success if res["ok"] else st.error)(("Right. " if res["ok"] else "Not quite. ") + msg)
    picked = q.option(res.get("picked"))
    if not res["ok"] and picked is not None and picked.feedback:
        st.warning(inputs.md_escape(picked.feedback), icon="🤔")
    st.info(q.explain, icon="💡")


def _one(q: questions.Question, n: int, solved: set[str], due: bool = False) -> None:
    res = st.session_state.get(_result_key(q))
    tag = "🔮 predict, then check" if q.kind == "predict" else "question"
    if due:
        tag += " · 🔁 due for review"
    st.markdown(f"**{n}.** {'✅ ' if q.id in solved else ''}{inputs.md_escape(q.text)}  \n*{tag}*")
    with st.form(key=f"study.form.{q.lesson}.{q.id}", border=False):
        if q.options:
            texts = {o.id: o.text for o in q.options}
            value = st.radio("Your answer", option_order(q, learner_id()), index=None,
                             key=f"study.q.{q.lesson}.{q.id}", format_func=texts.__getitem__,
                             label_visibility="collapsed")
        else:
            value = st.number_input(f"Your prediction{f' ({q.unit})' if q.unit else ''}", value=None,
                                    format="%g", key=f"study.q.{q.lesson}.{q.id}", placeholder="a number")
        label = "Commit my prediction and check" if q.kind == "predict" else "Check"
        if st.form_submit_button(label, key=f"study.check.{q.lesson}.{q.id}"):
            if value is None:
                st.warning("Choose or type an answer first.")
            else:
                try:
                    _submit(q, value, solved)
                except Exception as exc:  # noqa: BLE001 - a model that is missing on this machine, ...
                    st.warning(f"The true value could not be computed here ({type(exc).__name__}: "
                               f"{inputs.md_escape(str(exc)[:200])}).")
                res = st.session_state.get(_result_key(q))
    if res:
        _result(q, res)


@st.fragment
def questions_box(lesson: course.Lesson) -> None:
    """The 'Check your understanding' box at the bottom of a lesson. A question file that was
    refused (study/questions.py validates it) shows its message here, on its own lesson only.

    A fragment: picking an option or pressing Check reruns this box alone, not the lesson above it
    (on a model page that would redo the page's forward passes and figures for nothing)."""
    refused = questions.error_for(lesson.url)
    if refused:
        with st.container(border=True, key="study-questions"):
            st.subheader("✅ Check your understanding")
            st.warning("This lesson's questions are switched off: their file was refused. "
                       f"{inputs.md_escape(refused)}", icon="⚠️")
        return
    qs = questions.for_lesson(lesson.url)
    if not qs:
        return
    lid = learner_id()
    solved = (_db_call(db.solved, lid, default={}) or {}).get(lesson.url, set())
    due = {c.question for c in (_db_call(review.due, lid, default=[]) or []) if c.lesson == lesson.url}
    with st.container(border=True, key="study-questions"):
        st.subheader("✅ Check your understanding")
        head = st.empty()
        solved = set(solved)
        for i, q in enumerate(qs, 1):
            _one(q, i, solved, q.id in due)
        head.caption(f"{len(solved & {q.id for q in qs})} of {len(qs)} solved · 🔮 questions: commit a prediction, "
                     "then the page computes the truth with the same function the widget above uses.")


# --------------------------------------------------------------------------- Home
def week_progress(solved: dict[str, set[str]]) -> list[dict]:
    rows = []
    for week, lessons in course.by_week().items():
        if week == 0:
            continue
        total = done = 0
        for l in lessons:
            ids = {q.id for q in questions.for_lesson(l.url)}
            total += len(ids)
            done += len(ids & solved.get(l.url, set()))
        rows.append({"week": week, "title": course.WEEK_TITLES.get(week, f"Week {week}"), "done": done, "total": total})
    return rows


def _in_words(delta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 90:
        return f"{minutes} min"
    hours = round(minutes / 60)
    return f"{hours} h" if hours < 36 else f"{round(hours / 24)} days"


def review_panel() -> None:
    """Home: 'Review what you missed'. Questions this learner got wrong come back after a
    delay (study/review.py, a Leitner schedule) until answered right twice in a row; each due
    question links to its lesson, where the question box marks it."""
    st.header("🔁 Review what you missed")
    cards = _db_call(review.cards, learner_id(), default=None)
    if cards is None:
        return
    lessons = {l.url: l for l in course.discover()}
    now = review.now()
    cards = [c for c in cards if c.lesson in lessons and questions.find(c.lesson, c.question) is not None]
    due = [c for c in cards if c.is_due(now)]
    later = [c for c in cards if not c.is_due(now)]
    if not cards:
        st.caption("Nothing to review. A question you get wrong comes back here after a delay (10 minutes, "
                   "then a day), until you answer it right twice in a row.")
        return
    if due:
        st.markdown(f"**{len(due)} question{'s' if len(due) != 1 else ''} due** · open the lesson and answer it "
                    "again in its *Check your understanding* box (marked 🔁).")
        with st.container(key="study-review-due"):
            for c in due:
                lesson, q = lessons[c.lesson], questions.find(c.lesson, c.question)
                st.page_link(lesson.rel_path, label=f"{lesson.title}: {inputs.md_escape(q.text[:110])}", icon="🔁")
    else:
        st.caption("Nothing is due right now.")
    if later:
        st.caption(f"{len(later)} more come{'s' if len(later) == 1 else ''} back later "
                   f"(the next in about {_in_words(later[0].due_at - now)}).")


def home_panel() -> None:
    """Per-week progress, the display name, export and reset: the learner's own data."""
    st.header("Your progress")
    lid = learner_id()
    solved = _db_call(db.solved, lid, default={}) or {}
    cols = st.columns(3)
    for col, row in zip(cols, week_progress(solved)):
        frac = row["done"] / row["total"] if row["total"] else 0.0
        col.progress(frac, text=f"{row['title']}: {row['done']} of {row['total']} questions")
    with st.expander("Your name, export, reset"):
        identity.identity_box(lid, forget_browser)
        sure = st.checkbox("Yes, delete all my answers and my name", key="study.reset_sure")
        if st.button("Reset my progress", key="study.reset", disabled=not sure):
            n = _db_call(db.reset_learner, lid, default=0)
            for k in [k for k in st.session_state if str(k).startswith("study.result.")]:
                del st.session_state[k]
            st.success(f"Deleted {n} answers.")
