# lesson: Home
# week: 0
# order: 0
# icon: 🏠
# url: home
# summary: What GenAI Lab is, how to use it, and the course map.
"""Home: what the app is, how to use it, the course map (generated from the page
registry), the device in use and the models that are available."""
import streamlit as st

from lessons import course, models
from ui import common, loaders
from ui import study as study_ui

st.title("🧪 GenAI Lab")
st.markdown(
    "An interactive companion to **Generative AI with Large Language Models**. Every topic of "
    "the three-week course comes with live widgets on *real* pretrained models — "
    "all-MiniLM-L6-v2 (an encoder), SmolLM2-135M-Instruct (a decoder) and a tiny GPT we "
    "pretrained on Shakespeare. Everything runs offline on a laptop CPU, faster on a GPU."
)

c1, c2 = st.columns(2)
with c1:
    st.subheader("Self-study")
    st.markdown(
        "- Follow the weeks in order; each lesson is short prose, a formula, and widgets.\n"
        "- Change one setting at a time and predict the result before you look.\n"
        "- Open **🧪 Try this** on each page for small experiments.\n"
        "- Every number computed by hand is checked against the reference library."
    )
with c2:
    st.subheader("Classroom demo")
    st.markdown(
        "- Use the ⋮ menu → *Settings* → *Wide mode* on a projector.\n"
        "- Seeds make random demos repeatable: the class sees what you saw while preparing.\n"
        "- Training demos are bounded (about a minute on a CPU) and each student trains a "
        "private copy: nobody's clicks change anybody else's model.\n"
        "- Share a page's URL to send the class straight to it."
    )

st.header("Course map")
weeks = course.by_week()
lesson_weeks = [w for w in weeks if w > 0]
if not lesson_weeks:
    st.info("No lesson pages are installed yet.")
cols = st.columns(max(len(lesson_weeks), 1))
for col, week in zip(cols, lesson_weeks):
    with col:
        st.subheader(course.WEEK_TITLES.get(week, f"Week {week}"))
        for lesson in weeks[week]:
            st.page_link(lesson.rel_path, label=lesson.title, icon=lesson.icon)
            if lesson.summary:
                st.caption(lesson.summary)

study_ui.home_panel()
study_ui.review_panel()

st.header("Models and device")
dev = common.device()
st.markdown(f"Computing on **{models.describe_device(dev)}** (change it in the sidebar).")
rows = models.bundled_models()
for r in rows:
    r["available"] = "✅ ready" if r["available"] else "❌ missing"
    if "converted" in r:
        r["converted"] = "yes" if r["converted"] else "on first use (~30 s)"
    else:
        r["converted"] = ""
st.dataframe(rows, hide_index=True, width="stretch")

with st.expander("Load any model from the Hugging Face hub (needs internet or a local cache)"):
    st.markdown(
        "Pages that accept a decoder can use any causal LM id. Remote code is never run "
        "(`trust_remote_code=False`). Offline, only models already in your local cache load."
    )
    mid = st.text_input("Model id", placeholder="gpt2", key="home.model_id")
    if st.button("Try loading", key="home.load"):
        try:
            lm = loaders.hub_model(mid.strip(), dev)
            st.success(f"Loaded {lm.name}: {lm.n_params / 1e6:.1f}M parameters.")
            st.session_state["home.model_loaded"] = lm.name
        except models.ModelUnavailable as exc:
            common.show_model_error(exc)
