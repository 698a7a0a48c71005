"""The container image carries everything the app imports: every first-party package reached
from app.py, the pages and the scripts the image runs is COPYed by deploy/Dockerfile and let
through by its .dockerignore (a missing `study/` once meant an image that could not start)."""
from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def _first_party() -> set[str]:
    tops = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    tops |= {p.stem for p in ROOT.glob("*.py")}
    return tops


def _imports_from(entry: list[Path], first: set[str]) -> set[str]:
    """Top-level first-party names imported, following first-party packages transitively."""
    seen, todo, files = set(), list(entry), set()
    while todo:
        f = todo.pop()
        if f in files:
            continue
        files.add(f)
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
            for n in names:
                top = n.split(".")[0]
                if top in first and top not in seen:
                    seen.add(top)
                    pkg = ROOT / top
                    todo += list(pkg.rglob("*.py")) if pkg.is_dir() else [ROOT / f"{top}.py"]
    return seen


def _copied() -> set[str]:
    out = set()
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY "):
            out |= {w.rstrip("/") for w in line.split()[1:-1] if not w.startswith("--")}
    return out


def _allowed_by_dockerignore(path: str) -> bool:
    allowed = True
    for line in (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg, pat = line.startswith("!"), line.lstrip("!").rstrip("/")
        if pat == "**" or fnmatch.fnmatch(path, pat) or path.startswith(pat + "/"):
            allowed = neg
    return allowed


def test_the_image_copies_every_package_the_app_imports():
    first = _first_party()
    entry = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), ROOT / "scripts" / "serve.py",
             ROOT / "scripts" / "prepare_models.py"]
    needed = _imports_from(entry, first) | {"app.py", "pages", "scripts", "assets", "licenses"}
    needed = {n if (ROOT / n).exists() else f"{n}.py" for n in needed}
    assert {"lessons", "ui", "study"} <= needed          # the walk found the real packages
    copied = _copied()
    assert needed - copied == set(), f"deploy/Dockerfile does not COPY {sorted(needed - copied)}"
    blocked = sorted(n for n in needed if not _allowed_by_dockerignore(n))
    assert blocked == [], f"deploy/Dockerfile.dockerignore keeps out {blocked}"


def test_dockerignore_keeps_out_what_the_image_must_not_carry():
    for path in ("tests", ".git", ".venv", "bench", "artifacts", "lessons/__pycache__"):
        assert not _allowed_by_dockerignore(path), path


def test_the_image_runs_as_a_non_root_user_and_has_the_health_check():
    text = DOCKERFILE.read_text()
    users = re.findall(r"^USER (\S+)", text, flags=re.M)
    assert users and users[-1] not in ("root", "0")
    assert "/_stcore/health" in re.search(r"^HEALTHCHECK.*(?:\n\s+.*)*", text, flags=re.M).group(0)
