"""The course registry: discovered from page headers, complete and consistent."""
from pathlib import Path

from lessons import course


def test_every_page_file_is_registered(root):
    files = {p.name for p in (root / "pages").glob("*.py") if not p.name.startswith("_")}
    registered = {l.path.name for l in course.discover()}
    assert files == registered, f"pages without a valid header: {files - registered}"


def test_urls_unique_and_weeks_known():
    lessons = course.discover()
    urls = [l.url for l in lessons]
    assert len(urls) == len(set(urls))
    assert all(l.week in course.WEEK_TITLES for l in lessons)


def test_parse_header(tmp_path: Path):
    p = tmp_path / "w9_demo.py"
    p.write_text("# lesson: Demo\n# week: 2\n# order: 5\n# topics: a, b\nimport x\n# icon: no\n")
    l = course.parse_header(p)
    assert (l.title, l.week, l.order, l.topics, l.icon, l.url) == ("Demo", 2, 5, ("a", "b"), "📘", "demo")
    (tmp_path / "none.py").write_text("import streamlit\n")
    assert course.parse_header(tmp_path / "none.py") is None


def test_lessons_never_import_streamlit(root):
    offenders = []
    for p in (root / "lessons").rglob("*.py"):
        src = p.read_text(encoding="utf-8")
        for line in src.splitlines():
            s = line.strip()
            if s.startswith(("import streamlit", "from streamlit")) or "import streamlit" in s.split("#")[0]:
                offenders.append(f"{p.name}: {s}")
    assert not offenders, offenders


def test_discover_is_cached_until_a_page_changes(tmp_path: Path, monkeypatch):
    import os

    from lessons import course

    clock = {"t": 1000.0}
    monkeypatch.setattr(course.time, "monotonic", lambda: clock["t"])

    def later() -> None:          # past the stamp's time to live: the folder is read again
        clock["t"] += course.STAMP_TTL_S + 0.01

    page = tmp_path / "w1_alpha.py"
    page.write_text("# lesson: Alpha\n# week: 1\n")
    first = course.discover(tmp_path)
    assert [l.title for l in first] == ["Alpha"]
    first.clear()                                           # a caller's list is its own
    assert [l.title for l in course.discover(tmp_path)] == ["Alpha"]
    (tmp_path / "w1_beta.py").write_text("# lesson: Beta\n# week: 1\n")
    assert [l.title for l in course.discover(tmp_path)] == ["Alpha"]      # within the time to live
    later()
    assert [l.title for l in course.discover(tmp_path)] == ["Alpha", "Beta"]
    page.write_text("# lesson: Alpha, edited\n# week: 1\n")
    st = page.stat()
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))   # a later mtime, whatever the clock
    later()
    assert [l.title for l in course.discover(tmp_path)] == ["Alpha, edited", "Beta"]
    (tmp_path / "w1_beta.py").unlink()
    later()
    assert [l.title for l in course.discover(tmp_path)] == ["Alpha, edited"]
