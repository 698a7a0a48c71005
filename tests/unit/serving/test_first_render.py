"""Home's first render does not wait for torch (bench/startup.py's render_ratio).

Importing torch costs seconds of CPU; the first learner on a fresh server would wait for it
before seeing the course map. So the modules that app.py and the Home page import must not
import torch or transformers at import time (a lesson imports them when it needs a model;
ui/runtime.py sets torch's threads only once something imported it). The modules are read
from the two files' import statements, so a new import there is checked with no new code."""
import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("torch", "transformers", "peft")


def _imported_modules(path: Path) -> list[str]:
    mods = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            mods += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            mods += [f"{node.module}.{a.name}" for a in node.names]
    return mods


def test_the_first_page_imports_no_torch():
    mods = _imported_modules(ROOT / "app.py") + _imported_modules(ROOT / "pages" / "home.py")
    assert any(m.startswith("ui.") for m in mods), mods
    code = (
        "import importlib, json, sys\n"
        f"for m in {mods!r}:\n"
        "    try:\n"
        "        importlib.import_module(m)\n"
        "    except ModuleNotFoundError:\n"
        "        importlib.import_module(m.rsplit('.', 1)[0])   # `from pkg import name`: name is not a module\n"
        f"print(json.dumps([h for h in {HEAVY!r} if h in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    heavy = json.loads(out.stdout.strip().splitlines()[-1])
    assert heavy == [], f"importing app.py's and Home's modules imports {heavy}"
