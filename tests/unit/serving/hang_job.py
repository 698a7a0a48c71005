"""A class-run job that never returns and never asks should_stop (a hung job), for
tests/unit/serving/test_class_runs.py: the supervisor must kill its worker at the deadline."""
import time


def run(spec, progress, should_stop):
    progress({"step": 1, "seconds": 0.0})
    while True:
        time.sleep(0.5)
