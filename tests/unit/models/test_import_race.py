"""transformers' first import from several session threads at once (lessons/models/importing.py)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_four_threads_loading_models_at_once_in_a_fresh_process_all_succeed():
    # Without the lock this failed every time (so one fresh process is enough):
    # "cannot import name 'AutoModel' from 'transformers'".
    out = subprocess.run([sys.executable, "-m", "tests.unit.models.import_race"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "ok", out.stdout[-2000:]
