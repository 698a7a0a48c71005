"""AppTest: the Week 2 training pages (live LoRA, forgetting, prompt tuning + PEFT families).
Training runs with the smallest step counts; the shared model must never change."""
import json

import pytest

from lessons import models
from tests.app.helpers import assert_no_exception, follow_as_this_session, main_figure_charts, open_page, texts
from tests.app.w2_tiny import use_tiny_gpt_or_stand_in


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    is_real = use_tiny_gpt_or_stand_in(mp, tmp_path_factory)
    yield is_real
    mp.undo()


def metric(at, start):
    for m in at.metric:
        if m.label.startswith(start):
            return m.value
    raise AssertionError(f"no metric {start!r}: {[m.label for m in at.metric]}")


def hash_shown(at, label):
    """A weights hash as the live LoRA page writes it: 'label' over the hash in code font."""
    for m in at.markdown:
        if m.value.startswith(label + "  \n`"):
            return m.value.split("`")[1]
    raise AssertionError(f"no hash {label!r}")


def disk_fingerprint():
    return models.state_fingerprint(models.load_tiny_gpt().model)


@pytest.mark.slow
def test_live_lora_training_and_adapter_swap(real):
    from lessons.finetune import instructions

    at = open_page("pages/w2_lora_training.py")
    if real:   # at the defaults the page opens with the recorded Try-this run of the task
        from lessons.finetune import recorded as lora_recorded

        rec = lora_recorded.recorded(lora_recorded.Lab(models.load_tiny_gpt("cpu")), lora_recorded.KIND,
                                     lora_recorded.settings())
        assert any("Recorded run" in m.value for m in at.info)
        want = rec.result["runs"]["archaic"]
        assert metric(at, "Exact answers (test)") == f"{want['after']['accuracy']:.0%}"
        assert f"Adapter 'archaic' after {want['train']['steps_done']} of" in texts(at)
        at.slider(key="lora-training.steps").set_value(10).run()     # other settings: no record
    assert "No 'archaic' adapter yet" in texts(at)
    assert not any("Recorded run" in m.value for m in at.info)
    at.radio(key="lora-training.task").set_value("mood")
    at.slider(key="lora-training.steps").set_value(10)
    at.select_slider(key="lora-training.r").set_value(4).run()
    assert_no_exception(at)
    assert "Instruction: Is this line about love or war?" in at.code[0].value  # the template
    at.button(key="lora-training.train").click().run(timeout=600)
    assert_no_exception(at)
    shown = texts(at)
    assert "Adapter 'mood' after 10 of 10 steps: all steps done" in shown
    before, after, shared = (hash_shown(at, "Base weights hash, before"), hash_shown(at, "Base weights hash, after"),
                             hash_shown(at, "Shared tiny GPT hash"))
    assert before == after == shared == disk_fingerprint()
    assert "Identical hashes" in shown
    assert int(metric(at, "Trainable (LoRA)").replace(",", "")) > 0
    assert metric(at, "Time per step").endswith("ms")
    # The worker trained what the recorded run's recipe trains for these settings (train_adapter on
    # a fresh copy, at the worker's thread count), and the session's bank holds that adapter.
    import torch

    from lessons.finetune import lora_training
    from ui import jobs

    job = at.session_state["lora-training.live"].result["job"]
    n = torch.get_num_threads()
    torch.set_num_threads(jobs.budget().threads)
    try:
        tiny = models.load_tiny_gpt("cpu")
        ref = lora_training.train_adapter(lora_training.AdapterBank(models.session_copy(tiny.model)), tiny.tokenizer,
                                          "mood", r=4, steps=10, max_seconds=600)
    finally:
        torch.set_num_threads(n)
    assert [h["loss"] for h in job["train"]["history"]] == [h["loss"] for h in ref["train"]["history"]]
    assert job["after"] == ref["after"] and job["before"] == ref["before"]
    bank = at.session_state["lora-training.bank"]
    assert bank.score("mood", tiny.tokenizer, instructions.split("mood", "test")[:36]) == ref["after"]
    # a second adapter on the same base, then swap
    at.radio(key="lora-training.task").set_value("archaic")
    at.slider(key="lora-training.steps").set_value(10).run()
    at.button(key="lora-training.train").click().run(timeout=600)
    assert_no_exception(at)
    assert set(at.radio(key="lora-training.active").options) == {"(none: base model)", "mood", "archaic"}
    swap = at.dataframe[-1].value
    assert {"base", "adapter 'mood'", "adapter 'archaic'"} <= set(swap.columns)
    at.radio(key="lora-training.active").set_value("archaic")
    at.text_input(key="lora-training.input").set_value("<script>alert(1)</script> you are kind 🙂").run()
    assert_no_exception(at)
    assert any("<script>alert(1)</script>" in c.value for c in at.code)  # shown as text, not HTML
    at.text_input(key="lora-training.input").set_value("   ").run()
    assert "Type some input line" in texts(at)
    assert hash_shown(at, "Base weights hash, after") == disk_fingerprint()
    # Reset (shown once a run exists) drops every adapter of this session, and then hides itself
    bank = at.session_state["lora-training.bank"]
    at.button(key="lora-training.reset").click().run()
    assert_no_exception(at)
    assert "No 'archaic' adapter yet" in texts(at)
    assert at.session_state["lora-training.bank"] is not bank
    assert at.radio(key="lora-training.active").options == ["(none: base model)"]
    assert not any(b.key == "lora-training.reset" for b in at.button)


@pytest.mark.slow
def test_forgetting_full_vs_lora_and_mixing(real):
    """Run: both methods train in a class-run worker; the page's table, bars and curves are the
    worker's result, which is the recorded recipe's for these settings (float for float, at the
    worker's thread count); a second run at another mix joins the session's list of runs."""
    import torch

    from lessons.finetune import recorded_forgetting as rf
    from ui import jobs

    at = open_page("pages/w2_forgetting.py")
    assert "Press **Run**" in texts(at)
    at.slider(key="forgetting.steps").set_value(10).run()
    at.button(key="forgetting.run").click().run(timeout=600)
    assert_no_exception(at)
    lv = at.session_state["forgetting.live"]
    job = lv.result["job"]
    assert lv.status == "finished" and job["stopped"] == "steps" and len(lv.run.history) == 20
    assert [r["step"] for r in lv.run.history] == list(range(1, 21))          # full's 10 steps, then LoRA's
    table = at.dataframe[0].value
    assert list(table["method"]) == ["full fine-tuning", "LoRA"]
    assert list(table["base weights changed"]) == ["yes", "no"]
    full_tr, lora_tr = (int(x.replace(",", "")) for x in table["trainable params"])
    # the default adapter (r = 16 on all four layer types, as on the live LoRA page) trains ~15 % of
    # this 1.35M model; on a 7B model the same rank is far below 1 %
    assert full_tr == models.load_tiny_gpt().n_params and 0 < lora_tr < full_tr / 5
    assert table["total MB"][1] < table["total MB"][0]
    assert "The shared tiny GPT's hash is unchanged." in texts(at)
    assert "Measured: task B 100% →" in texts(at)   # the shipped start model knows task B
    loss = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if "Training loss on the task-A batches" in c.proto.spec)
    assert [(t["name"], len(t["x"])) for t in loss["data"]] == [("Full fine-tuning", 10), ("LoRA", 10)]
    # the pretrained model's perplexity line is labelled ON the log axis (y in log10 units, inside its range)
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)
    label = next(a for a in bars["layout"]["annotations"] if a["text"].startswith("pretrained tiny GPT"))
    lo, hi = bars["layout"]["yaxis3"]["range"]
    assert label["yref"] == "y3" and lo < label["y"] < hi and label["y"] < 5   # log10 units, not the raw ppl
    # The worker ran what the recorded run's recipe runs for these settings.
    n = torch.get_num_threads()
    torch.set_num_threads(jobs.budget().threads)
    try:
        ref = rf.compare(rf.Lab(models.load_tiny_gpt("cpu"), models.load_instruction_tuned("mood", "cpu")),
                         rf.settings(steps=10))
    finally:
        torch.set_num_threads(n)
    for m in ("full", "lora"):
        assert job[m]["after"] == ref[m]["after"], m
        assert [h["loss"] for h in job[m]["train"]["history"]] == [h["loss"] for h in ref[m]["train"]["history"]]
    assert job["before"] == ref["before"] and job["pretrained_ppl"] == ref["pretrained_ppl"]
    at.slider(key="forgetting.mix").set_value(0.25).run()
    at.button(key="forgetting.run").click().run(timeout=600)
    assert_no_exception(at)
    assert "Run 2: 10 steps, mix m = 0.25" in texts(at) and len(at.session_state["forgetting.runs"]) == 2


def test_prompt_tuning_opens_with_the_recorded_default_run(real):
    """At the defaults the page shows the recorded soft-prompt run
    (lessons/finetune/recorded_prompt_tuning.py) at once: its scores and loss curve in the lesson's
    main figure, labelled as recorded; another setting shows no record, only the Train button."""
    if not real:
        pytest.skip("a stand-in tiny GPT has no recorded run")
    from lessons.finetune import prompt_tuning, recorded_prompt_tuning as rp

    rec = rp.recorded(rp.Lab(models.load_instruction_tuned(prompt_tuning.DEMO_DEFAULTS["model"], "cpu")), rp.KIND,
                      rp.settings())
    assert rec is not None, "no current record (scripts/record_runs.py)"
    at = open_page("pages/w2_prompt_tuning.py")
    assert any("Recorded run" in m.value for m in at.info)
    assert metric(at, "Soft prompt trained") == f"{rec.result['after']['accuracy']:.0%}"
    assert metric(at, "Blank instruction, no soft prompt") == f"{rec.result['before']['accuracy']:.0%}"
    main = main_figure_charts(at)
    assert len(main) == 1 and len(json.loads(main[0].proto.spec)["data"][0]["y"]) == len(rec.result["history"])
    at.slider(key="prompt-tuning.steps").set_value(10).run()          # other settings: no record
    assert_no_exception(at)
    assert not any("Recorded run" in m.value for m in at.info)
    assert "Press **Train soft prompt**" in " ".join(m.value for m in at.info)


def test_forgetting_opens_with_the_recorded_default_run(real):
    """At the defaults the page shows the recorded run (lessons/finetune/recorded_forgetting.py) at
    once: its scores as the lesson's main figure, labelled as recorded, and its cost table; another
    setting shows no record, only the Run button."""
    if not real:
        pytest.skip("a stand-in tiny GPT has no recorded run")
    from lessons.finetune import recorded_forgetting as rf

    rec = rf.recorded(rf.Lab(models.load_tiny_gpt("cpu"), models.load_instruction_tuned("mood", "cpu")), rf.KIND,
                      rf.settings())
    assert rec is not None, "no current record (scripts/record_runs.py)"
    at = open_page("pages/w2_forgetting.py")
    info = next(m.value for m in at.info if "Recorded run" in m.value)
    full_b = rec.result["full"]["after"]["task_b_accuracy"]
    assert f"{full_b:.0%} with full fine-tuning" in info
    main = main_figure_charts(at)
    assert len(main) == 1 and "Task B: exact answers" in main[0].proto.spec
    bars = json.loads(main[0].proto.spec)
    assert [d["y"][0] for d in bars["data"] if d["xaxis"] == "x2"][:2] == [
        rec.result["before"]["task_b_accuracy"], full_b]
    table = at.dataframe[0].value
    n = rf.settings()["steps"]
    assert list(table["method"]) == ["full fine-tuning", "LoRA"] and list(table["steps"]) == [n, n]
    assert f"Recorded run: {n} steps" in texts(at)
    assert not [b for b in at.button if b.key == "forgetting.clear"]      # nothing of the learner's to clear
    assert at.button(key="forgetting.run")

    at.slider(key="forgetting.mix").set_value(0.25).run()
    assert_no_exception(at)
    assert not any("Recorded run" in m.value for m in at.info) and main_figure_charts(at) == []
    assert "Press **Run** to fine-tune." in texts(at) and not at.dataframe and at.button(key="forgetting.run")


@pytest.mark.slow
def test_prompt_tuning_and_families(real):
    at = open_page("pages/w2_prompt_tuning.py")
    d = models.load_tiny_gpt().model.config.n_embd
    at.slider(key="prompt-tuning.n").set_value(4)
    at.slider(key="prompt-tuning.steps").set_value(10).run()
    assert metric(at, "Trainable: n × d_model") == f"4 × {d} = {4 * d:,}"
    assert metric(at, "peft PromptTuningConfig counts") == f"{4 * d:,}"
    at.button(key="prompt-tuning.train").click().run(timeout=600)
    assert_no_exception(at)
    assert "Soft prompt for 'archaic' after 10 of 10 steps: all steps done" in texts(at)
    # The page's figures are the lessons' own scores of the frozen two-task model on the same 24
    # test examples: it needs its instruction (blank: love/war, its default skill), and has the skill.
    from lessons.finetune import instructions, prompt_tuning

    two = models.load_instruction_tuned("two_tasks", "cpu")
    blank = prompt_tuning.score(two.model, two.tokenizer, prompt_tuning.examples("archaic", "test", blank=True)[:24])["accuracy"]
    written = prompt_tuning.score(two.model, two.tokenizer, instructions.split("archaic", "test")[:24])["accuracy"]
    assert blank <= 0.1 and written >= 0.9
    assert metric(at, "Blank instruction, no soft prompt") == f"{blank:.0%}"
    assert metric(at, "Written instruction instead") == f"{written:.0%}"
    after = at.session_state["prompt-tuning.live"].result["job"]["after"]["accuracy"]     # the worker's scores
    delta = next(m.delta for m in at.metric if m.label == "Soft prompt trained")
    assert delta == f"{100 * (after - blank):+.0f} points vs blank"     # a difference of shares: points
    assert "weights hash is unchanged and no gradient reached it: True" in texts(at)
    # The worker trained what the recorded run's recipe trains for these settings, at its thread count.
    import torch

    from lessons.finetune import recorded_prompt_tuning as rp
    from ui import jobs

    job = at.session_state["prompt-tuning.live"].result["job"]
    n = torch.get_num_threads()
    torch.set_num_threads(jobs.budget().threads)
    try:
        ref = rp.train(rp.Lab(two), rp.settings(n_virtual=4, steps=10))
    finally:
        torch.set_num_threads(n)
    assert [r["loss"] for r in job["history"]] == [r["loss"] for r in ref["history"]]
    from lessons.core.records import plain

    assert job["after"] == plain(ref["after"]) and job["nearest"] == plain(ref["nearest"])
    fam = at.dataframe[-1].value
    assert set(fam["family"]) == {"full fine-tuning", "selective", "reparameterization", "additive"}
    at.selectbox(key="prompt-tuning.fam_model").set_value("all-MiniLM-L6-v2")
    at.select_slider(key="prompt-tuning.fam_r").set_value(4).run()
    assert_no_exception(at)
    fam = at.dataframe[-1].value
    row = fam[fam["method"] == "LoRA r=4 on query, value"]
    assert row["trainable"].item() == f"{6 * 2 * 4 * (384 + 384):,}"
    assert fam[fam["method"] == "prompt tuning, 20 virtual tokens"]["trainable"].item() == f"{20 * 384:,}"


@pytest.mark.slow
def test_stop_keeps_partial_lora_training(real):
    """The learner's Stop on a class run only they follow: it stops after its current step, the
    worker scores the adapter learned so far and saves it, and the page shows it and puts it in the
    session's bank (section 3 can use it)."""
    from lessons.finetune import lora_training_job
    from ui import class_runs, jobs

    at = open_page("pages/w2_lora_training.py")
    s = lora_training_job.settings("archaic", r=2, alpha=4, targets=["c_attn"], steps=400, seed=5)
    spec = lora_training_job.spec(s, 240.0, lora_training_job.lab().fingerprints(s), jobs.budget().threads)
    job = follow_as_this_session(at, "lora-training", lora_training_job.KIND, spec, steps=400, max_seconds=240.0,
                                settings=s, rows=3)
    at.button(key="lora-training.stop").click().run(timeout=600)
    assert_no_exception(at)
    end = class_runs.poll(job.id).job
    done = end.result["train"]["steps_done"]
    assert end.state == "stopped" and 3 <= done < 400 and end.result["weights"]
    assert f"stopped at step {done} of 400" in texts(at)
    assert f"Adapter 'archaic' after {done} of 400 steps: stopped by you" in texts(at)
    assert hash_shown(at, "Base weights hash, after") == disk_fingerprint()
    assert set(at.radio(key="lora-training.active").options) == {"(none: base model)", "archaic"}


@pytest.mark.slow
def test_stop_keeps_partial_soft_prompt(real):
    """The learner's Stop on a class run only they follow: it stops after its current step, and the
    worker scores the soft prompt learned so far; the page shows those scores."""
    from lessons.finetune import prompt_tuning_job, recorded_prompt_tuning as rp
    from ui import class_runs, jobs

    at = open_page("pages/w2_prompt_tuning.py")
    s = rp.settings(task="mood", n_virtual=3, steps=300)
    spec = prompt_tuning_job.spec(s, 240.0, prompt_tuning_job.lab().fingerprints(s), jobs.budget().threads)
    job = follow_as_this_session(at, "prompt-tuning", prompt_tuning_job.KIND, spec, steps=300, max_seconds=240.0,
                                settings=s, rows=2)
    at.button(key="prompt-tuning.stop").click().run(timeout=600)
    assert_no_exception(at)
    end = class_runs.poll(job.id).job
    done = len(at.session_state["prompt-tuning.live"].run.history)
    assert end.state == "stopped" and 2 <= done < 300 and len(end.result["history"]) == done
    assert f"Stopped at step {done} of 300" in texts(at)
    assert f"Soft prompt for 'mood' after {done} of 300 steps: stopped by you" in texts(at)
    assert metric(at, "Soft prompt trained") == f"{end.result['after']['accuracy']:.0%}"
    assert "weights hash is unchanged and no gradient reached it: True" in texts(at)


@pytest.mark.slow
def test_forgetting_stop_during_full_finetuning_keeps_it_and_skips_lora(real):
    """The learner's Stop on a class run only they follow, during full fine-tuning: the worker scores
    the partly fine-tuned model as it is and does not train LoRA; the page says so."""
    from lessons.finetune import forgetting_job, recorded_forgetting as rf
    from ui import class_runs, jobs

    at = open_page("pages/w2_forgetting.py")
    s = rf.settings(steps=300, seed=3)
    spec = forgetting_job.spec(s, 240.0, forgetting_job.lab().fingerprints(s), jobs.budget().threads)
    job = follow_as_this_session(at, "forgetting", forgetting_job.KIND, spec, steps=600, max_seconds=600.0,
                                settings=s, rows=3)
    at.button(key="forgetting.stop").click().run(timeout=600)
    assert_no_exception(at)
    end = class_runs.poll(job.id).job
    done = end.result["full"]["train"]["steps_done"]
    assert end.state == "stopped" and "lora" not in end.result and 3 <= done < 300
    shown = texts(at)
    assert f"Full fine-tuning stopped by you after {done} of 300 steps" in shown and "LoRA was not trained" in shown
    assert metric(at, "Task B accuracy after LoRA") == "not trained"
    assert list(at.dataframe[0].value["method"]) == ["full fine-tuning"]
    assert list(at.dataframe[0].value["steps"]) == [done]
    assert "Measured: task B" not in shown      # no forgetting verdict on a run cut short
    assert at.session_state["forgetting.live"].stopped and len(at.session_state["forgetting.runs"]) == 1
    assert "You left the run" not in shown
