"""Home page: course map generated from the registry, models table, hub-model errors."""
from lessons import course
from tests.app.helpers import open_page, texts


def test_course_map_links_every_lesson_and_nothing_else():
    at = open_page("pages/home.py")
    shown = texts(at)
    lessons = [l for l in course.discover() if l.week > 0]
    for l in lessons:
        assert l.summary == "" or l.summary in shown
    labels = sorted(pl.proto.label for pl in at.get("page_link"))
    assert labels == sorted(l.title for l in lessons)


def test_models_table_and_device():
    at = open_page("pages/home.py")
    df = at.dataframe[0].value
    assert set(df["model"]) >= {"all-MiniLM-L6-v2", "SmolLM2-135M-Instruct", "GPT-2 tokenizer"}
    assert "Computing on **cpu" in texts(at)


def test_hub_model_offline_shows_clear_error_not_traceback():
    at = open_page("pages/home.py")
    at.text_input(key="home.model_id").input("gpt2").run()
    at.button(key="home.load").click().run()
    assert not at.exception
    assert any("Could not load 'gpt2'" in e.value and "offline" in e.value for e in at.error)
    at.text_input(key="home.model_id").input("<script>alert(1)</script> x").run()
    at.button(key="home.load").click().run()
    assert any("does not look like a model id" in e.value for e in at.error)


def test_device_choice_survives_a_run_stopped_by_empty_input():
    at = open_page("pages/w1_next_token.py")
    at.sidebar.selectbox(key="device_choice").set_value("cpu").run()
    at.text_input(key="next-token.prompt").input("   ").run()      # page stops early: no sidebar drawn
    assert any("Type some prompt" in i.value for i in at.info)
    at.text_input(key="next-token.prompt").input("Hello there").run()
    assert [s.value for s in at.sidebar.selectbox] == ["cpu"]
    assert at.session_state["device_pref"] == "cpu"
