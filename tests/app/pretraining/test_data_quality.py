"""AppTest: the data-quality page's filters change the funnel and the kept fraction."""
from lessons.pretraining import data_quality as dq
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w1_data_quality.py"


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_default_filters_keep_the_lessons_fraction():
    at = open_page(PAGE, timeout=60)
    r = dq.run_filters(dq.load_sample())
    assert _metric(at, "Documents kept") == f"{len(r.kept)} of 30"
    assert _metric(at, "Kept fraction (documents)") == f"{r.kept_fraction:.0%}"
    df = at.dataframe[0].value
    assert (df["verdict"] == "kept").sum() == len(r.kept)
    assert "rejected: duplicate" in set(df["verdict"])


def test_turning_filters_off_and_thresholds():
    at = open_page(PAGE, timeout=60)
    at.multiselect(key="data-quality.enabled").set_value([]).run()
    assert_no_exception(at)
    assert _metric(at, "Kept fraction (documents)") == "100%"
    at.multiselect(key="data-quality.enabled").set_value(list(dq.FILTER_ORDER)).run()
    at.slider(key="data-quality.min_stop").set_value(0).run()         # the language filter lets everything in
    df = at.dataframe[0].value
    assert "rejected: language" not in set(df["verdict"])
    at.radio(key="data-quality.show").set_value("rejected").run()
    assert (at.dataframe[0].value["verdict"] != "kept").all()


def test_own_document_is_judged_and_html_is_not_rendered():
    at = open_page(PAGE, timeout=60)
    at.text_area(key="data-quality.own").input("<script>alert('x')</script> buy buy buy $$$ !!!").run()
    assert_no_exception(at)
    assert "Your document: rejected" in texts(at)
    assert _metric(at, "Documents kept").endswith("of 31")
    good = ("The history of the bicycle is a story of small improvements. The first machines had no pedals, "
            "and riders pushed them along with their feet. Later the chain and the air-filled tyre made "
            "cycling fast and comfortable, and that is why it became so popular with people in cities.")
    at.text_area(key="data-quality.own").input(good).run()
    assert "Your document: kept" in texts(at)
