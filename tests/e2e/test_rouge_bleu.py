"""Real browser: learner text with HTML in it is shown literally in the ROUGE highlights
(no <b> element is created, the angle brackets are visible), and the highlight marks are
there. Screenshot saved to artifacts/screenshots/."""
import pytest

from tests.e2e.server import wait_until_idle

pytestmark = pytest.mark.e2e


def test_html_in_candidate_is_shown_literally(page, app_url, shots_dir):
    page.goto(app_url)            # the first visit of a fresh server lands on Home
    wait_until_idle(page)
    page.goto(f"{app_url}/rouge-bleu")
    wait_until_idle(page)
    page.keyboard.press("Escape")   # close a possible first-visit navigation notice
    box = page.get_by_label("Candidate (the model's output)")
    box.fill("<b>Amanda</b> baked cookies <script>alert(1)</script> :red[and] will bring some")
    box.press("Control+Enter")
    wait_until_idle(page)
    main = page.locator('[data-testid="stMainBlockContainer"]')
    shown = main.locator('[data-testid="stMarkdownContainer"]').filter(has_text="alert(1)").first
    text = shown.inner_text()
    assert "<b>Amanda</b>" in text and "<script>alert(1)</script>" in text and ":red[and]" in text
    assert shown.locator("b, script").count() == 0          # nothing was interpreted as HTML
    assert shown.locator("span").filter(has_text="Amanda").count() >= 1   # the highlight mark
    page.screenshot(path=str(shots_dir / "2-rouge-bleu-html-literal.png"), full_page=True)
