"""One source of defaults (issue 26): every page that reads a lessons module's defaults dict
(``DEFAULTS``, ``PAGE_DEFAULTS``, ``POLICY_DEFAULTS``, ... : any ``*_DEFAULTS`` or ``DEFAULTS``)
opens with its widgets at that dict's values. The pages are discovered from their source (no
hand-kept list): a page names the dict, and a widget keyed ``<url>.<name>`` (or
``<url>.<name>.<variant>``, e.g. the PPO page's ``ppo.beta.tiny`` for ``POLICY_DEFAULTS["tiny"]``)
must start at the dict's ``name``. The benches and recorded runs build their settings from the
same dicts (lessons/*/recorded*.py), so a dataclass default or a page that drifts fails here."""
from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from lessons import course
from tests.app.helpers import assert_no_exception, open_page

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS_NAME = re.compile(r"^([A-Z]+_)?DEFAULTS$|^[A-Z][A-Za-z]*Config$")   # a dict, or a config dataclass
# A *_DEFAULTS that holds no widget values (the one exception, with its reason):
NOT_PAGE_DEFAULTS = {"SMOOTH_DEFAULTS": "BLEU's smoothing constant per method (lessons/evaluation/bleu.py)"}


def _dicts_read(path: Path) -> list[tuple[str, str]]:
    """(module, NAME) for every ``<alias>.<NAME>`` of a lessons module the page reads."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lessons"):
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}   # PPOConfig(...) builds, not reads
    out = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and id(node) not in called and isinstance(node.value, ast.Name) and node.value.id in aliases
                and DEFAULTS_NAME.match(node.attr) and node.attr not in NOT_PAGE_DEFAULTS):
            out.add((aliases[node.value.id], node.attr))
    return sorted(out)


PAGES = [(p, _dicts_read(p)) for p in sorted((ROOT / "pages").glob("*.py")) if _dicts_read(p)]


def _flat(defaults: dict) -> list[tuple[str, str | None, object]]:
    """(key, variant, value): a dict of dicts (POLICY_DEFAULTS) gives one entry per variant."""
    if all(isinstance(v, dict) for v in defaults.values()):
        return [(k, variant, v) for variant, d in defaults.items() for k, v in d.items()]
    return [(k, None, v) for k, v in defaults.items()]


def _same(a, b) -> bool:
    norm = lambda x: list(x) if isinstance(x, (tuple, list)) else x   # noqa: E731
    return norm(a) == norm(b)


def test_the_pages_that_read_a_defaults_dict_are_found():
    names = {p.stem for p, _ in PAGES}
    # the training pages of every theme are among them: discovery works
    assert {"w3_ppo", "w3_reward_hacking", "w1_pretraining_live", "w2_lora_training", "w3_distillation"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("path,dicts", PAGES, ids=lambda x: x.stem if isinstance(x, Path) else "")
def test_a_page_opens_at_its_defaults(path, dicts):
    import importlib

    url = course.parse_header(path).url
    at = open_page(str(path.relative_to(ROOT)))
    assert_no_exception(at)
    widgets = {}
    for kind in ("slider", "select_slider", "number_input", "radio", "selectbox", "multiselect", "text_input",
                 "text_area", "toggle", "checkbox"):
        for w in at.get(kind):
            if getattr(w, "key", None):
                widgets[w.key] = w.value
    checked, wrong = [], []
    for module, name in dicts:
        mod_name, attr = module.rsplit(".", 1)
        mod = importlib.import_module(module) if _is_module(module) else getattr(importlib.import_module(mod_name), attr)
        defaults = getattr(mod, name)
        if dataclasses.is_dataclass(defaults):      # DPOConfig: its field defaults
            defaults = {f.name: f.default for f in dataclasses.fields(defaults)
                        if f.default is not dataclasses.MISSING}
        if not isinstance(defaults, dict):
            continue
        for key, variant, value in _flat(defaults):
            wkey = f"{url}.{key}" + (f".{variant}" if variant else "")
            if wkey in widgets:
                checked.append(wkey)
                if not _same(widgets[wkey], value):
                    wrong.append(f"{wkey}: page {widgets[wkey]!r}, {name}[{key!r}] {value!r}")
    assert wrong == [], f"{path.name} does not open at its defaults: {wrong}"
    assert checked, f"{path.name} reads {dicts} but no widget is keyed <url>.<name> after them"


def _is_module(dotted: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(dotted) is not None
    except (ImportError, AttributeError, ValueError):
        return False
