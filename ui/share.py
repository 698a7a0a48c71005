"""Shareable settings and presenter mode, for every page at once (called by app.py).

Links: before the page runs, settings found in the URL (``?<widget key>=<value>``) are put
into st.session_state, so the page's widgets start from them; after the page runs, the
current values of the page's keyed widgets are written back into the URL, so the address
bar always reproduces the view. A parameter that is unknown on this page, or a value a
widget refuses, falls back to the default with a short note, never a traceback.

Presenter mode (sidebar toggle or ``?present=1``): the page's top-level prose and formulas
are hidden and shown in one expander instead, the lesson's main figure (ui/charts.main_figure)
moves up under the title, ahead of the settings, no text is under 20 px, the sidebar is folded
away, and previous/next buttons walk through the lessons."""
from __future__ import annotations

import streamlit as st

from lessons import course
from study import prose, share
from ui import inputs

_WRITTEN = "_share.written"      # the settings this session last wrote into the URL
_NOTES = "_share.notes"
_RETRY = "_share.retry"          # linked values still to apply after a widget refused one
_HANDLED = "_share.handled"      # the last link applied (a link is applied once per session)
_HISTORY = "_share.history"      # every setting string this session wrote (bounded): never a link
_HISTORY_MAX = 200
PRESENT = "app.present"
_SIMPLE_TYPES = {"bool_value", "int_value", "double_value", "string_value", "double_array_value",
                 "int_array_value", "string_array_value"}


# --------------------------------------------------------------------------- links
def _url_settings() -> dict[str, str]:
    return {k: v for k, v in st.query_params.to_dict().items() if k not in share.RESERVED}


def apply_from_url(lesson: course.Lesson) -> dict:
    """Before the page: put settings that came from outside (a shared link, an edited URL)
    into session state. Returns what was applied this run ({} on ordinary reruns). Only the
    lesson's own widget keys (`<url-name>.<widget>`, found in the page's source or seen in
    an earlier run) are accepted: a link can never set any other session state."""
    retry = st.session_state.pop(_RETRY, None)
    if retry:   # the rerun after a widget refused one linked value: the others stay applied
        st.session_state["_share.applied"] = retry
        return retry
    raw = _url_settings()
    # A URL this session wrote itself (the last one, or one of a few runs ago) is never a link:
    # the browser sends its current URL with every rerun, and on a busy server a slider moved
    # twice quickly asks for the second rerun before the first run's new URL has reached the
    # address bar. Applying that stale URL would snap the slider back.
    if not raw or raw == st.session_state.get(_HANDLED) or _fingerprint(raw) in st.session_state.get(_HISTORY, ()):
        return {}
    st.session_state[_HANDLED] = raw  # never apply the same link twice
    good, bad = share.read_params(raw)
    notes = [f"ignored {_code(k)} ({why})" for k, why in bad.items()]
    seen = st.session_state.get("_share.seen", {}).get(lesson.url, ())
    for k in list(good):
        if not (k in seen and k.startswith(lesson.url + ".")
                or share.could_be_page_key(lesson.url, k, lesson.path, prose.is_page_key)):
            notes.append(f"ignored {_code(k)} (unknown setting: this page has no such setting)")
            del good[k]
    for k, v in good.items():
        st.session_state[k] = v
    st.session_state[_NOTES] = notes
    st.session_state["_share.applied"] = good
    return good


def _code(name: str) -> str:
    """A parameter name in a code span, literally (no markdown escapes: inside backticks a
    backslash would show)."""
    return f"`{share.shown_name(name)}`"


def _culprit(applied: dict, exc: BaseException) -> tuple[str | None, dict]:
    """(the linked key whose widget raised, that widget call's locals): the innermost frame of
    the traceback that has a `key` local naming one of the linked settings."""
    found, where = None, {}
    tb = exc.__traceback__
    while tb is not None:
        loc = tb.tb_frame.f_locals
        for name in ("key", "user_key"):
            k = loc.get(name)
            if isinstance(k, str) and k in applied:
                found, where = k, loc
        tb = tb.tb_next
    return found, where


def _reason(value, where: dict, exc: BaseException) -> str:
    lo, hi = where.get("min_value"), where.get("max_value")
    if lo is not None and hi is not None and not isinstance(lo, (list, tuple, dict)):
        return f"out of range: {str(value)[:40]} is not between {lo} and {hi}"
    opts = where.get("options")
    if isinstance(opts, (list, tuple)) and opts:
        shown = ", ".join(str(o)[:30] for o in opts[:6]) + (", ..." if len(opts) > 6 else "")
        return f"not one of the choices: {shown}"
    msg = " ".join(str(exc).replace("`", "").split())[:160]
    return f"refused by the widget: {msg}" if msg else f"refused by the widget ({type(exc).__name__})"


def reject(applied: dict, exc: Exception) -> None:
    """The page refused a linked value (a widget raised). Only that value is dropped, with its
    reason; the link's other values stay applied for the rerun (app.py reruns). When the
    failing setting cannot be told, every linked value is dropped."""
    notes = st.session_state.setdefault(_NOTES, [])
    key, where = _culprit(applied, exc)
    if key is None:
        for k in applied:
            st.session_state.pop(k, None)
        notes.append(f"this link's settings could not be applied ({type(exc).__name__}); showing the defaults")
        st.session_state.pop("_share.applied", None)
        return
    st.session_state.pop(key, None)
    notes.append(f"ignored {_code(key)} ({inputs.md_escape(_reason(applied[key], where, exc))})")
    rest = {k: v for k, v in applied.items() if k != key}
    st.session_state.pop("_share.applied", None)
    if rest:
        st.session_state[_RETRY] = rest


def _page_widgets(lesson: course.Lesson) -> dict[str, object]:
    """{key: value} of this run's keyed widgets of the lesson (`<url-name>.` keys) whose
    values fit in a link."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
        from streamlit.runtime.state.session_state_proxy import get_session_state

        ctx = get_script_run_ctx()
        state = get_session_state()._state
        keys = list(ctx.shared.widget_user_keys_this_run.snapshot())
    except Exception:  # noqa: BLE001 - Streamlit internals moved: links degrade, the page still works
        return {}
    out = {}
    for k in sorted(keys):
        if not (k.startswith(lesson.url + ".") and share.shareable_key(k)) or k not in st.session_state:
            continue
        wid = state._key_id_mapper.get_id_from_key(k, None)
        meta = state._new_widget_state.widget_metadata.get(wid) if wid else None
        if meta is None or meta.value_type not in _SIMPLE_TYPES:
            continue
        out[k] = st.session_state[k]
    return out


def mirror_to_url(lesson: course.Lesson) -> None:
    """After the page: write the page's current settings into the URL, and report linked
    values that this page does not have or that its widgets did not take."""
    widgets = _page_widgets(lesson)
    seen = st.session_state.setdefault("_share.seen", {})
    seen[lesson.url] = frozenset(seen.get(lesson.url, frozenset()) | set(widgets))
    applied = st.session_state.pop("_share.applied", None)
    notes = st.session_state.setdefault(_NOTES, [])
    if applied:
        for k, v in applied.items():
            if k not in widgets:
                notes.append(f"ignored {_code(k)} (not shown with this link's other settings)")
                st.session_state.pop(k, None)
            elif not share.same_value(widgets[k], v):
                notes.append(f"{_code(k)}: {inputs.md_escape(str(v)[:40])} is not a value this setting takes; "
                             f"it shows {inputs.md_escape(str(widgets[k]))[:60]}")
    encoded = {}
    for k, v in widgets.items():
        try:
            encoded[k] = share.encode(v)
        except share.Unshareable:
            continue
    if encoded != _url_settings():
        present = {"present": "1"} if presenting() else {}
        st.query_params.from_dict({**present, **encoded})
    st.session_state[_WRITTEN] = encoded
    history = st.session_state.setdefault(_HISTORY, {})   # a dict keeps insertion order
    history.pop(_fingerprint(encoded), None)
    history[_fingerprint(encoded)] = None
    while len(history) > _HISTORY_MAX:
        del history[next(iter(history))]


def _fingerprint(settings: dict[str, str]) -> tuple:
    return tuple(sorted(settings.items()))


def show_notes(box) -> None:
    notes = st.session_state.pop(_NOTES, None)
    if notes:
        box.caption("🔗 From the link: " + "; ".join(notes) + ".")


def link_box(lesson: course.Lesson) -> None:
    """'Copy link to this setting': the full URL of this view, with a copy button."""
    from urllib.parse import urlencode, urlsplit

    url = st.context.url
    here = urlsplit(url if isinstance(url, str) else "")
    if not here.netloc:
        return
    # The path may carry a prefix (server.baseUrlPath behind a proxy) and the page's url name.
    parts = [p for p in here.path.split("/") if p]
    known = {l.url for l in course.discover()}
    if parts and parts[-1] in known:
        parts = parts[:-1]
    prefix = "/".join(parts)
    base = f"{here.scheme}://{here.netloc}/" + (prefix + "/" if prefix else "")
    params = st.query_params.to_dict()
    link = base + lesson.url + ("?" + urlencode(params) if params else "")
    # On the projector's narrow bar slot (20 px text) the long label would be cut with "...".
    label = "🔗 Copy link" if presenting() else "🔗 Copy link to this setting"
    with st.popover(label, key="study-share-popover"):
        st.caption("Whoever opens this link sees this lesson with the same settings (copy button on the right).")
        st.code(link, language=None, wrap_lines=True)


# --------------------------------------------------------------------------- presenter mode
def presenting() -> bool:
    return bool(st.session_state.get(PRESENT))


def init_present() -> None:
    """The presenter flag starts from ?present=1 and then follows the sidebar toggle."""
    in_url = st.query_params.get("present") in ("1", "true", "yes")
    if st.session_state.get("_share.present_in_url") != in_url:  # the URL changed: follow it
        st.session_state["_share.present_in_url"] = in_url
        if in_url:
            st.session_state[PRESENT] = True
    st.session_state.setdefault(PRESENT, False)


def _toggle_present() -> None:
    if st.session_state.get(PRESENT):
        st.query_params["present"] = "1"
    elif "present" in st.query_params:
        del st.query_params["present"]


def present_toggle() -> None:
    with st.sidebar:
        st.toggle("🎦 Presenter mode", key=PRESENT, on_change=_toggle_present,
                  help="For a projector: prose folded away, larger fonts, previous/next lesson. "
                       "Or open any lesson with ?present=1.")


# Direct children of the page's main column that hold prose (markdown, formulas, captions):
# hidden in presenter mode. Elements inside columns, containers, expanders stay visible.
_PRESENT_CSS = """<style>
html { font-size: 20px; }
[data-testid="stMain"] [data-testid="stWidgetLabel"] p, [data-testid="stMain"] [data-testid="stCaptionContainer"] { font-size: 1rem; }
/* Inside the main figure, captions fold away like the page's prose (the figure must fit the screen). */
.st-key-lesson-figure [data-testid="stCaptionContainer"] { display: none; }
/* ... and so do the data tables under a main figure's chart (the chart carries the idea; the rows are
   one scroll away when presenter mode is switched off). */
.st-key-lesson-figure:has([data-testid="stPlotlyChart"]) [data-testid="stDataFrame"] { display: none; }
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] { display: none; }
/* Streamlit's header is fixed and 3.75rem tall, and holds only the running indicator and the menu at
   the right edge: it is see-through here and the lesson starts under it, beside the menu (the
   projector's first screen belongs to the figure). */
header[data-testid="stHeader"] { background: transparent; pointer-events: none; }
header[data-testid="stHeader"] [data-testid="stToolbar"], header[data-testid="stHeader"] [data-testid="stStatusWidget"] { pointer-events: auto; }
[data-testid="stMainBlockContainer"] { padding-top: 1rem; padding-bottom: 1rem; max-width: 100%; padding-right: 4.5rem; }
[data-testid="stMain"] [data-testid="stVerticalBlock"] { gap: 0.45rem; }
[data-testid="stMainBlockContainer"] > div > [data-testid="stVerticalBlock"] > [data-testid="stElementContainer"]:has(> [data-testid="stMarkdown"]),
[data-testid="stMainBlockContainer"] > div > [data-testid="stVerticalBlock"] > [data-testid="stElementContainer"]:has(> [data-testid="stCaptionContainer"]),
[data-testid="stMainBlockContainer"] > div > [data-testid="stVerticalBlock"] > [data-testid="stElementContainer"]:has(> [data-testid="stLatex"]),
[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > [data-testid="stElementContainer"]:has(> [data-testid="stMarkdown"]),
[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > [data-testid="stElementContainer"]:has(> [data-testid="stCaptionContainer"]),
[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > [data-testid="stElementContainer"]:has(> [data-testid="stLatex"]) { display: none; }
[data-testid="stMain"] h1 { font-size: 1.7rem !important; line-height: 1.3 !important; padding: 0 !important; margin: 0 !important; }
/* Streamlit pulls the next element up under a heading (its markdown box has margin-bottom: -1rem,
   normally hidden in the heading's own bottom padding, which we remove): without this the title's
   box is shorter than its text and the next element is drawn over the title's descenders. */
[data-testid="stMain"] [data-testid="stHeading"] [data-testid="stMarkdownContainer"] { margin-bottom: 0 !important; }
/* Streamlit packs a list of page links with -7.5px margins, drawing each link's box over the last. */
[data-testid="stMain"] [data-testid="stPageLink"] a { height: auto !important; }
[data-testid="stMain"] [data-testid="stElementContainer"]:has(> [data-testid="stPageLink"]) { margin: 0 !important; }
[data-testid="stMain"] h3 { font-size: 1.2rem !important; line-height: 1.3 !important; padding: 0.2rem 0 0.1rem 0 !important; margin: 0 !important; }
[data-testid="stMain"] h2 { font-size: 1.35rem !important; line-height: 1.3 !important; padding: 0.3rem 0 0.15rem 0 !important; margin: 0 !important; }
[data-testid="stMain"] [data-testid="stMetricValue"] { font-size: 1.9rem; }
[data-testid="stMain"] [data-testid="stExpander"] summary { padding-top: 0.25rem; padding-bottom: 0.25rem; }
/* A narrow window (800 px): the bar's button label wraps instead of being cut. */
.st-key-study-presenter-bar button, .st-key-study-presenter-bar button * { white-space: normal !important; text-overflow: clip !important; overflow: visible !important; }
/* Readable from the back of a room: no text in the lesson smaller than the 20 px base (a caption,
   a widget label, a table cell) and nothing smaller than its parent; headings keep their size. */
[data-testid="stMain"] :is(p, li, label, span, td, th, summary, button, a, code, input, textarea, div) { font-size: max(1em, 20px); }
/* The lesson's main figure (charts.main_figure) right under the bar and the title, before the
   settings: the page's top-level blocks are a flex column, so `order` moves the figure's block up. */
:is([data-testid="stMainBlockContainer"] > div, [data-testid="stMainBlockContainer"]) > [data-testid="stVerticalBlock"] > :has(.st-key-study-presenter-bar) { order: -3; }
:is([data-testid="stMainBlockContainer"] > div, [data-testid="stMainBlockContainer"]) > [data-testid="stVerticalBlock"] > :has(> [data-testid="stHeading"] h1) { order: -2; }
:is([data-testid="stMainBlockContainer"] > div, [data-testid="stMainBlockContainer"]) > [data-testid="stVerticalBlock"] > :is(.st-key-lesson-figure, :has(.st-key-lesson-figure)) { order: -1; }
</style>"""


def _neighbours(lesson: course.Lesson) -> tuple[course.Lesson | None, course.Lesson | None]:
    lessons = [l for l in course.discover() if l.week > 0]
    urls = [l.url for l in lessons]
    if lesson.url not in urls:
        return None, lessons[0] if lessons else None
    i = urls.index(lesson.url)
    return (lessons[i - 1] if i > 0 else None), (lessons[i + 1] if i + 1 < len(lessons) else None)


def presenter_header(lesson: course.Lesson | None):
    """Before the page: the presenter bar (previous / exit / share link / next) in one row and
    the prose expander, collapsed. Returns the bar's slot for the share link (None when not
    presenting), so that the widget's first chart fits a 1280x720 projector."""
    if not presenting() or lesson is None:
        return None
    st.markdown(_PRESENT_CSS, unsafe_allow_html=True)  # static CSS, no learner text
    with st.container(key="study-presenter-bar"):
        prev_l, next_l = _neighbours(lesson)
        c1, c2, c3, c4 = st.columns([3, 2, 2, 3], vertical_alignment="center")
        if prev_l is not None:
            c1.page_link(prev_l.rel_path, label=f"◀ {prev_l.title}", query_params={"present": "1"})
        c2.button("Exit presenter mode", key="app.present_exit", on_click=_exit_present, width="stretch")
        if next_l is not None:
            c4.page_link(next_l.rel_path, label=f"{next_l.title} ▶", query_params={"present": "1"})
        texts = prose.page_prose(lesson.path)
        if texts:
            with st.expander("📖 Text and formulas of this lesson", expanded=False):
                for kind, text in texts:
                    getattr(st, kind)(text)
    return c3


def _exit_present() -> None:
    st.session_state[PRESENT] = False
    if "present" in st.query_params:
        del st.query_params["present"]
