"""lessons.pretraining.lifecycle: the four stages, links only to pages that exist, the adapt-stage advice."""
from lessons import course
from lessons.pretraining import lifecycle


def test_four_stages_in_course_order():
    assert [s.name for s in lifecycle.STAGES] == ["Scope", "Select", "Adapt and align", "Application integration"]
    assert lifecycle.stage("adapt").substeps[0].name == "Prompt engineering"


def test_links_point_only_at_existing_lesson_pages(tmp_path):
    existing = {l.rel_path for l in course.discover()}
    for s in lifecycle.STAGES:
        for sub in s.substeps:
            for l in lifecycle.links(sub):
                assert l.rel_path in existing and l.week > 0
    # with a registry holding just one page, only that page can be linked
    (tmp_path / "w1_sampling.py").write_text("# lesson: Sampling lab\n# week: 1\n# topics: sampling\n")
    only = course.discover(tmp_path)
    sub = lifecycle.stage("adapt").substeps[0]
    assert [l.title for l in lifecycle.links(sub, only)] == ["Sampling lab"]
    assert lifecycle.links(lifecycle.stage("integrate").substeps[0], only) == []


def test_prompt_engineering_links_to_this_weeks_pages():
    titles = [l.title for l in lifecycle.links(lifecycle.stage("adapt").substeps[0])]
    assert "Prompting and in-context learning" in titles


def test_advice():
    assert lifecycle.prompting_or_finetuning(5000, 1, 0.0, 6000, 8192).approach.startswith("fine-tune")
    assert lifecycle.prompting_or_finetuning(20, 1, 0.3, 300, 8192).approach == "keep prompting"
    a = lifecycle.prompting_or_finetuning(600, 3, 0.2, 300, 8192)
    assert a.approach.startswith("try fine-tuning")
    assert any("forgetting" in r for r in a.reasons)


def test_every_named_page_exists_and_links_are_exact():
    assert lifecycle.missing_pages() == []
    linked = {l.url for s in lifecycle.STAGES for sub in s.substeps for l in lifecycle.links(sub)}
    # every lesson page of weeks 1-3 except this overview is reachable from some stage
    assert {l.url for l in course.discover() if l.week > 0} - linked == {"lifecycle"}
    # RAG links to the RAG lesson, not to a page whose text happens to contain "rag"
    augment = lifecycle.stage("integrate").substeps[1]
    assert [l.url for l in lifecycle.links(augment)] == ["rag", "reasoning", "react"]
    finetune = [l.url for l in lifecycle.links(lifecycle.stage("adapt").substeps[1])]
    assert "forgetting" in finetune and "lora-training" in finetune

