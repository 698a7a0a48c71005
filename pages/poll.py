# lesson: Class poll
# week: 0
# order: 80
# icon: 🙋
# url: poll
# summary: Answer the teacher's live poll with the code on the projector.
"""Learners join a live class poll with a short code (the teacher opens it on a lesson)."""
import streamlit as st

from ui import poll

st.title("🙋 Class poll")
st.markdown("Your teacher opens a poll on a lesson page and shows a short code. Type it here, pick "
            "your answer, and watch the class's answers appear on the projector.")
poll.learner_view()
