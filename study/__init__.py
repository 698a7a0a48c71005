"""Self-study and classroom support (not a lesson): the question bank, the progress and
poll database, and the codec that turns widget settings into a shareable URL.

Pure Python like lessons/ (no streamlit import); the page layer lives in ui/."""
