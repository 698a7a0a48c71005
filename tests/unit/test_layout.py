"""The house rules of the layout, checked on the source (cheap: no model is loaded).

* lessons/core imports no concept module; it may use lessons.models, lessons.corpus (shipped
  data) and itself.
* A concept module imports only lessons.core, the infrastructure modules (models: loading;
  corpus: shipped text; course: the page list) and, inside a concept package
  (lessons/<package>/), the other modules of its own package. Concepts that genuinely build
  on each other live in one package: rlhf, finetune, decoding, retrieval, pretraining,
  evaluation. A class-run job (``*_job.py``: a page's run, composed as the page composes it, run
  in a worker process) may also import the concepts its page combines (the ReAct job builds the
  retrieval search tool the ReAct page gives the loop).
* Pages are thin: no page imports torch, transformers, peft, rouge_score or sacrebleu (the
  computation and every library cross-check live in lessons/).
* No source module (lessons, ui, pages, study, bench, scripts) is longer than MAX_LINES.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = {"lessons.models", "lessons.corpus", "lessons.course"}
PAGE_FORBIDDEN = {"torch", "transformers", "peft", "rouge_score", "sacrebleu"}
MAX_LINES = 450


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module imported anywhere in the file (top level or inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "lessons":
                out |= {f"lessons.{a.name}" for a in node.names}
            else:
                out.add(node.module)
                out |= {f"{node.module}.{a.name}" for a in node.names
                        if (ROOT / node.module.replace(".", "/") / f"{a.name}.py").exists()}
    return out


LESSONS = sorted(p for p in (ROOT / "lessons").rglob("*.py") if "__pycache__" not in p.parts)


def _package(mod: str) -> str | None:
    """'lessons.rlhf' for lessons.rlhf.ppo (and for the package lessons.pretraining itself)."""
    parts = mod.split(".")
    if len(parts) >= 3:
        return ".".join(parts[:2])
    return mod if (ROOT / Path(*parts) / "__init__.py").exists() else None


# The concepts a class-run job combines as its page does, named one by one.
JOB_COMPOSES = {"lessons.prompting.react_job": ("lessons.retrieval", "lessons.retrieval.rag")}


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: _module_name(p))
def test_import_graph(path):
    mod = _module_name(path)
    deps = {d for d in _imports(path) if d == "lessons" or d.startswith("lessons.")}
    if mod == "lessons" or mod in INFRA or mod.startswith("lessons.models."):
        allowed = lambda d: d in INFRA or d.startswith(("lessons.core", "lessons.models."))  # noqa: E731
    elif mod.startswith("lessons.core"):
        allowed = lambda d: d.startswith(("lessons.core", "lessons.models")) or d == "lessons.corpus"  # noqa: E731
    else:
        pkg = _package(mod)
        extra = JOB_COMPOSES.get(mod, ()) if mod.endswith("_job") else ()
        allowed = lambda d: (d.startswith(("lessons.core", "lessons.models.")) or d in INFRA  # noqa: E731
                             or (pkg is not None and (d == pkg or d.startswith(pkg + "."))) or d in extra)
    assert sorted(d for d in deps if not allowed(d)) == [], f"{mod} imports another concept"


@pytest.mark.parametrize("path", sorted((ROOT / "pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_are_thin(path):
    heavy = {d.split(".")[0] for d in _imports(path)} & PAGE_FORBIDDEN
    assert heavy == set(), f"{path.name} imports {sorted(heavy)}: move that computation into lessons/"


# No god modules: every source file stays short enough to read in one sitting, no exceptions.
CAPPED = sorted(p for d in ("lessons", "ui", "pages", "study", "bench", "scripts") for p in (ROOT / d).rglob("*.py")
                if "__pycache__" not in p.parts) + [ROOT / "app.py"]


@pytest.mark.parametrize("path", CAPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_short(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(ROOT)} has {n} lines (cap {MAX_LINES}): split it by concern"


SOURCES = sorted(p for d in ("lessons", "pages", "ui", "tests", "bench", "scripts", "study") for p in (ROOT / d).rglob("*.py")
                 if "__pycache__" not in p.parts)


@pytest.mark.slow
def test_names_read():
    """No single-capital module aliases (`as T`, `as AR`; torch's `F` idiom excepted), no
    `from ui import decoding as ui`, and no local variable `st` in lessons (st is streamlit)."""
    bad = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for a in node.names:
                    if a.asname and (a.asname == "ui" or (a.asname.isupper() and len(a.asname) <= 2
                                                           and a.asname != "F")):
                        bad.append(f"{rel}: import {a.name} as {a.asname}")
            if rel.startswith("lessons") and isinstance(node, ast.Name) and node.id == "st" \
                    and isinstance(node.ctx, ast.Store):
                bad.append(f"{rel}: local variable st")
    assert bad == []


def test_pages_end_early_with_stop_page_not_st_stop():
    """st.stop() leaves a STOP request that ends every later element call of the run, so the
    sidebar, questions, share link and poll that app.py draws after the page would vanish.
    Pages and ui/ end early with common.stop_page(); app.py catches it, draws the rest, and only
    then calls st.stop() (so the state of widgets the run did not reach is kept)."""
    offenders = []
    for path in sorted([*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "stop" and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "st"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


PATH_IN_PROSE = r"\b(?:ui|lessons|bench|scripts|tests|deploy|pages)/[A-Za-z0-9_/]*\.(?:py|sh|yaml|cfg)\b"


def test_every_path_named_in_prose_exists():
    """README, CONTRIBUTING, pages, ui and lessons point readers at files by path
    ("about 30 lines in `lessons/finetune/lora.py`"): a file that moved must not leave a
    dangling pointer behind."""
    import re

    sources = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *LESSONS,
               *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]
    missing = sorted({(p.relative_to(ROOT).as_posix(), m)
                      for p in sources for m in re.findall(PATH_IN_PROSE, p.read_text(encoding="utf-8"))
                      if not (ROOT / m).exists()})
    assert not missing, f"paths named but not in the repository: {missing}"


@pytest.mark.slow
def test_app_names_its_pages_and_lessons():
    """app.py builds the navigation: its loop variables say what they hold (a page, a lesson),
    never `l` or `w`; and no module alias means two things (`pt` once meant pretraining in some
    files and prompt_tuning in others)."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    short = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
                    and len(n.id) == 1 and n.id != "i"})
    assert short == []
    meaning: dict[str, set[str]] = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for a in node.names:
                    module = getattr(node, "module", None) or ""
                    if a.asname and (module.startswith(("lessons", "ui")) or a.name.startswith(("lessons", "ui"))):
                        meaning.setdefault(a.asname, set()).add(a.name.rsplit(".", 1)[-1])
    assert {k: sorted(v) for k, v in meaning.items() if len(v) > 1} == {}
