"""GenAI Lab entry point: `streamlit run app.py`.

The navigation is generated from the page headers (lessons/course.py), so the sidebar and
the Home page's course map always list exactly the pages that exist.
"""
import streamlit as st

from lessons import course
from ui import common, runtime
from ui import poll as poll_ui
from ui import share as share_ui
from ui import study as study_ui


# Lesson titles wrap onto a second line instead of being cut with "...", in the sidebar and in
# page links (the Home course map, the lifecycle links); the sidebar takes a share of the
# screen (at most 320 px) so that at 1024 px the lesson keeps most of the width.
_SIDEBAR_CSS = """<style>
section[data-testid='stSidebar']{width:clamp(230px,24vw,320px)!important;min-width:230px!important}
[data-testid='stSidebarNav'] a, [data-testid='stSidebarNav'] a *, [data-testid='stPageLink'] a *{
  white-space:normal!important;overflow:visible!important;text-overflow:clip!important}
[data-testid='stSidebarNav'] a{height:auto!important;min-height:2rem}
[data-testid='stMarkdownContainer'] .katex-display{overflow:visible!important}
[data-testid='stSidebarNav'] li:has(a[href$='/home']){display:none!important}
</style>"""
# The last rule: KaTeX makes every display formula a horizontal scroll box, and a glyph's 1-2 px
# overhang in a narrow column turns it into a scroll region that a keyboard cannot reach (axe
# scrollable-region-focusable, serious). Formulas must fit anyway (tests/e2e/layout.py), so none
# needs to scroll.


def _safely(fn, *args):
    """Study and class features must never break a lesson: any error becomes a short note.
    (st.rerun()/st.stop() are BaseExceptions and pass through.) Returns fn's result or None."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001
        st.caption(f"⚠️ Questions / links / polls are unavailable on this page ({type(exc).__name__}).")
        return None


DEFAULT_PATH = "start"   # the default page's reserved path name (it is served at "/")


def _add_home_alias(sections: dict[str, list], home_url: str) -> None:
    """/home opens Home. The default page is served at "/" and Streamlit reserves its path name
    without serving it, so Home gets the unused name DEFAULT_PATH and a hidden alias page at
    /<home_url> switches to it (the sidebar hides the alias's link, _SIDEBAR_CSS)."""
    first = next(iter(sections.values()), [])
    if not first or not home_url:
        return
    home = first[0]
    alias = st.Page(lambda: st.switch_page(home), title=f"{home.title} ", url_path=home_url)
    first.append(alias)


def run() -> None:
    runtime.use_interactive_threads()
    st.set_page_config(page_title="GenAI Lab", page_icon="🧪", layout="wide")
    sections: dict[str, list] = {}
    for week, week_pages in course.by_week().items():
        pages = [
            st.Page(page.rel_path, title=page.title, icon=page.icon, default=(week == 0 and i == 0),
                    url_path=DEFAULT_PATH if (week == 0 and i == 0) else page.url)
            for i, page in enumerate(week_pages)
        ]
        sections[course.WEEK_TITLES.get(week, f"Week {week}")] = pages
    lessons0 = course.by_week().get(0, [])
    _add_home_alias(sections, lessons0[0].url if lessons0 else "")
    # Readable lesson titles on a projector (static CSS only; learner text is never HTML).
    st.markdown(_SIDEBAR_CSS, unsafe_allow_html=True)
    nav = st.navigation(sections, expanded=True)
    lesson = next((page for week_pages in course.by_week().values() for page in week_pages
                   if page.url == nav.url_path), None)
    is_lesson = lesson is not None and lesson.week > 0
    # Study and class features (ui/study.py, ui/share.py, ui/poll.py) for every lesson at once:
    # settings from a shared link go in before the page, questions and the poll come after it.
    share_ui.init_present()
    top = st.container()
    with top:
        # In presenter mode the bar keeps a slot for the share link, so it takes no row of its own.
        link_slot = _safely(share_ui.presenter_header, lesson)
    applied: dict = {}
    if is_lesson:
        try:
            applied = share_ui.apply_from_url(lesson)
        except Exception:  # noqa: BLE001 - a link that cannot be read is ignored
            applied = {}
    rejected = stopped_early = False
    try:
        nav.run()
    except common.PageStopped:  # the page ended early on purpose (common.stop_page())
        stopped_early = True
    except Exception as exc:  # st.rerun() is a BaseException and passes through
        if not applied:
            raise
        # A widget (or the page) refused a value from the link: the defaults, with a short note.
        share_ui.reject(applied, exc)
        rejected = True
        st.rerun()
    finally:
        # The device picker comes after the page so that the page's content is on screen
        # before torch is imported (the sidebar is its own container, so order is invisible).
        # Pages end early with common.stop_page(), never st.stop(): after st.stop() no element
        # of this run draws any more, so the sidebar and questions would vanish.
        common.sidebar()
        _safely(share_ui.present_toggle)
        _safely(study_ui.write_cookie)
        if is_lesson and not rejected:
            _safely(share_ui.mirror_to_url, lesson)
            with top:
                _safely(share_ui.show_notes, st)
            with link_slot or top:
                _safely(share_ui.link_box, lesson)
            if not share_ui.presenting():
                _safely(study_ui.questions_box, lesson)
            _safely(poll_ui.teacher_panel, lesson)
        runtime.release_memory()
    if stopped_early:
        # Now that everything after the page is drawn, end the run as st.stop() does: Streamlit
        # then keeps the state of the widgets this run did not reach (a normal end forgets them,
        # so a learner's sliders would reset after an empty prompt).
        st.stop()


if __name__ == "__main__":
    run()
