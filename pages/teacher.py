# lesson: Teacher view
# week: 0
# order: 90
# icon: 🧑‍🏫
# url: teacher
# summary: The class's progress and the most-missed questions, aggregated.
"""Class progress and the most-missed questions. Aggregated: learners appear only under a
display name they chose; anonymous learners are counted, never listed."""
import pandas as pd
import streamlit as st

from lessons import course
from study import db, questions
from ui import common, item_stats
from ui import study as study_ui
from ui import teacher as teacher_ui

st.title("🧑‍🏫 Teacher view")
if not teacher_ui.gate():   # learners never see the class's names and scores
    common.stop_page()
st.markdown("How the class is doing, from the same database as the learners' progress. Learners who "
            "chose a display name on Home appear by that name; everyone else is counted together. "
            "Polls are opened from the **📊 Ask the class** box at the bottom of each lesson.")
eng = study_ui.engine()
if eng is None:
    common.stop_page()
st.caption(f"Database: `{db.describe(eng)}` (set `GENAI_LAB_DB_URL` to share one across servers).")

lessons = [l for l in course.discover() if l.week > 0]
titles = {l.url: l.title for l in lessons}
totals = {l.url: len(questions.for_lesson(l.url)) for l in lessons}

st.header("Class progress")
rows = db.class_progress(eng)
if not rows:
    st.info("No answers yet.")
else:
    table = []
    for r in rows:
        row = {"learner": r["name"]}
        for week, ls in course.by_week(lessons).items():
            done = sum(r["lessons"].get(l.url, 0) for l in ls)
            row[f"week {week}"] = f"{done}/{sum(totals[l.url] for l in ls)}" if not r.get("anonymous") else "—"
        row["questions solved"] = sum(r["lessons"].values()) if not r.get("anonymous") else None
        table.append(row)
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch",
                 column_config={"learner": st.column_config.TextColumn(width=220)})

st.header("Most-missed questions")
st.caption("Share of learners whose FIRST answer was wrong, among those who tried the question.")
stats = [s for s in db.question_stats(eng) if s["learners"] > 0]
if not stats:
    st.info("No answers yet.")
else:
    out = []
    for s in stats[:25]:
        q = questions.find(s["lesson"], s["question"])
        out.append({"lesson": titles.get(s["lesson"], s["lesson"]), "question": q.text if q else s["question"],
                    "tried": s["learners"], "missed first try": s["missed_first_try"],
                    "missed share": s["missed_share"]})
    # Fixed column widths (about 800 px in all): at 1280 px with the sidebar open the main column
    # is ~850 px wide, and a long question no longer pushes "missed share" off-screen (the
    # question wraps into the cell; hovering shows it whole).
    st.dataframe(pd.DataFrame(out), hide_index=True, width="stretch", row_height=56,
                 column_config={
                     "lesson": st.column_config.TextColumn(width=150),
                     "question": st.column_config.TextColumn(width=330),
                     "tried": st.column_config.NumberColumn(width=60),
                     "missed first try": st.column_config.NumberColumn("missed 1st", width=90,
                                                                       help="wrong on the first try"),
                     "missed share": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0,
                                                                     format="percent", width=120)})

item_stats.panel(eng)
