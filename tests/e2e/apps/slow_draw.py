"""A tiny app for tests/e2e/test_wait_until_idle.py: it sleeps, then draws; a button does the same."""
import time

import streamlit as st

st.title("Slow page")
time.sleep(3)
st.write("drawn after the sleep")
if st.button("Again", key="again"):
    time.sleep(3)
    st.write("drawn after the click")
