"""The item statistics table of the teacher view (pages/teacher.py); the numbers come from
study/stats.py (pure, unit-tested). Aggregated: rows name questions, never learners."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lessons import course
from study import questions, stats


def table(rows: list[stats.ItemStat], lessons: dict[str, course.Lesson]) -> pd.DataFrame:
    """One row per question still in the bank: flagged items first, then the hardest."""
    out = []
    for r in sorted(rows, key=lambda r: (not r.flagged, r.facility, r.lesson, r.question)):
        q = questions.find(r.lesson, r.question)
        if q is None or r.lesson not in lessons:
            continue
        picked = sorted(r.wrong_options.items(), key=lambda kv: -kv[1])
        out.append({
            "lesson": lessons[r.lesson].title,
            "question": q.text,
            "tried": r.learners,
            "facility": r.facility,
            "discrimination": r.discrimination,
            "review": "⚠️ negative" if r.flagged else "",
            "wrong options chosen (first try)": " · ".join(
                f"{(q.option(oid).text if q.option(oid) else oid)[:60]}: {n}" for oid, n in picked),
        })
    return pd.DataFrame(out)


def panel(eng) -> None:
    st.header("Item statistics")
    st.caption(
        f"From each learner's FIRST try. **Facility**: the share right on the first try. **Discrimination**: "
        f"the point-biserial correlation between the first try at this question and the learner's score on "
        f"the other questions of the same lesson or week (shown once {stats.MIN_LEARNERS} learners with such a "
        "score answered it). A good question is answered right more often by learners who do well on the "
        "rest; a negative value (⚠️) means the stronger learners miss it more often: check the key and the "
        "wording. A wrong option nobody picks teaches nothing.")
    scope = st.radio("Score the rest over the same", ["lesson", "week"], horizontal=True, key="study.item_scope")
    lessons = {l.url: l for l in course.discover() if l.week > 0}
    if scope == "lesson":
        def group_of(url):
            return url
    else:
        def group_of(url):
            return lessons[url].week if url in lessons else url
    rows = stats.item_stats(stats.first_tries(eng), group_of, bank={u: questions.for_lesson(u) for u in lessons})
    df = table(rows, lessons)
    if df.empty:
        st.info("No answers yet.")
        return
    n_flagged = int((df["review"] != "").sum())
    if n_flagged:
        st.warning(f"{n_flagged} question{'s' if n_flagged != 1 else ''} with negative discrimination: "
                   "review the key and the wording (listed first).")
    # Fixed widths (800 px in all), as the most-missed table: at 1280 px with the sidebar open the
    # main column is ~810 px wide, so no column is off-screen (a long text is cut; hovering shows it whole).
    st.dataframe(df, hide_index=True, width="stretch", row_height=56, column_config={
        "lesson": st.column_config.TextColumn(width=120),
        "question": st.column_config.TextColumn(width=230),
        "tried": st.column_config.NumberColumn(width=50),
        "facility": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent", width=90),
        "discrimination": st.column_config.NumberColumn("discrim.", format="%.2f", width=80, help=(
            "Point-biserial discrimination. "
            f"Empty: fewer than {stats.MIN_LEARNERS} learners with a rest-score, or no spread yet.")),
        "review": st.column_config.TextColumn(width=70),
        "wrong options chosen (first try)": st.column_config.TextColumn("wrong options (first try)", width=160),
    })
