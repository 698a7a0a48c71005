"""AppTest opens every page of the navigation (through app.py) with no exception; on every
lesson it also answers one question and checks the progress is stored (one extra rerun)."""
import pytest

from lessons import course
from tests.app.helpers import open_page
from tests.app.study_helpers import check_questions_and_progress

LESSONS = course.discover()


def test_there_are_pages():
    assert any(l.week == 0 for l in LESSONS)


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=[l.url for l in LESSONS])
def test_page_opens(lesson):
    at = open_page(lesson.rel_path)
    assert at.title, "every page starts with a title"
    if lesson.week > 0:
        check_questions_and_progress(at, lesson.url)
