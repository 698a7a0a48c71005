"""The Home page's model-id field (issue #16.3): a path traversal, a local path or a URL gets
a clear refusal (never a file-system error such as 'config file ... is not a valid JSON
file'); a well-formed id offline says that the app is offline."""
import pytest

from tests.app.helpers import open_page


@pytest.fixture(scope="module")
def home():
    return open_page("pages/home.py")


@pytest.mark.parametrize("mid", ["../../etc/passwd", "/etc/passwd", "assets/../README.md",
                                 "https://huggingface.co/gpt2"])
@pytest.mark.slow
def test_paths_and_urls_are_refused_with_a_clear_message(home, mid):
    home.text_input(key="home.model_id").input(mid).run()
    home.button(key="home.load").click().run()
    assert not home.exception
    errors = [e.value for e in home.error]
    assert len(errors) == 1 and "does not look like a model id" in errors[0], errors
    assert "JSON" not in errors[0] and "passwd" not in errors[0]


def test_a_hub_id_offline_says_so(home):
    home.text_input(key="home.model_id").input("gpt2").run()
    home.button(key="home.load").click().run()
    assert any("Could not load 'gpt2'" in e.value and "offline" in e.value for e in home.error)
