"""GenAI Lab entry point: `streamlit run app.py`.

The navigation is generated from the page headers (lessons/course.py), so the sidebar and
the Home page's course map always list exactly the pages that exist.
"""
import streamlit as st
from streamlit.errors import StreamlitAPIException

from lessons import course
from ui import common
from ui import poll as poll_ui
from ui import share as share_ui
from ui import study as study_ui


_SIDEBAR_CSS = "<style>section[data-testid='stSidebar']{min-width:350px}</style>"


def run() -> None:
    common.use_interactive_threads()
    st.set_page_config(page_title="GenAI Lab", page_icon="🧪", layout="wide")
    sections: dict[str, list] = {}
    for week, lessons in course.by_week().items():
        pages = [
            st.Page(l.rel_path, title=l.title, icon=l.icon, url_path=l.url, default=(week == 0 and i == 0))
            for i, l in enumerate(lessons)
        ]
        sections[course.WEEK_TITLES.get(week, f"Week {week}")] = pages
    # A wider sidebar so that lesson titles are readable on a projector (static CSS only;
    # learner text is never rendered as HTML).
    st.markdown(_SIDEBAR_CSS, unsafe_allow_html=True)
    nav = st.navigation(sections, expanded=True)
    lesson = next((l for w in course.by_week().values() for l in w if l.url == nav.url_path), None)
    is_lesson = lesson is not None and lesson.week > 0
    # Study and class features (ui/study.py, ui/share.py, ui/poll.py) for every lesson at once:
    # settings from a shared link go in before the page, questions and the poll come after it.
    share_ui.init_present()
    top = st.container()
    with top:
        share_ui.presenter_header(lesson)
    applied = share_ui.apply_from_url(lesson) if is_lesson else {}
    try:
        nav.run()
    except (StreamlitAPIException, ValueError, TypeError) as exc:
        if not applied:
            raise
        share_ui.reject(applied, exc)  # a widget refused a value from the link: defaults, with a note
        st.rerun()
    finally:
        # The device picker comes after the page so that the page's content is on screen
        # before torch is imported (the sidebar is its own container, so order is invisible).
        # `finally`: a page that calls st.stop() must still draw it, or the choice is lost.
        common.sidebar()
        share_ui.present_toggle()
        study_ui.write_cookie()
        if is_lesson:
            share_ui.mirror_to_url(lesson)
            with top:
                share_ui.show_notes(st)
                share_ui.link_box(lesson)
            if not share_ui.presenting():
                study_ui.questions_box(lesson)
            poll_ui.teacher_panel(lesson)
        common.release_memory()


if __name__ == "__main__":
    run()
