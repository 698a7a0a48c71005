"""GenAI Lab entry point: `streamlit run app.py`.

The navigation is generated from the page headers (lessons/course.py), so the sidebar and
the Home page's course map always list exactly the pages that exist.
"""
import streamlit as st

from lessons import course
from ui import common


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
    try:
        nav.run()
    finally:
        # The device picker comes after the page so that the page's content is on screen
        # before torch is imported (the sidebar is its own container, so order is invisible).
        # `finally`: a page that calls st.stop() must still draw it, or the choice is lost.
        common.sidebar()
        common.release_memory()


if __name__ == "__main__":
    run()
