"""AppTest: one-click preference data + reward model, then a short PPO run (in a class-run
worker process, ui/class_runs.py): progress ends, charts and samples appear, the memory panel is
right, and the shared tiny GPT (= pi_ref) is unchanged while the session's policy moved. A
second session with the same settings sees the run at once from its record, and its "Run it
again live" trains the same history step for step."""
import pytest
from lessons import models
from lessons.core.loop import StopReason
from tests.app.helpers import TeacherTab, assert_no_exception, open_page, texts

PAGE = "pages/w3_ppo.py"


@pytest.mark.slow
def test_quickstart_then_short_ppo_run():
    at = open_page(PAGE)
    assert "Press" not in texts(at) and at.button(key="ppo.quickstart")
    at.button(key="ppo.quickstart").click().run()
    assert_no_exception(at)
    assert "Using your reward model: 300 pairs" in texts(at)
    at.slider(key="ppo.steps.tiny").set_value(3).run()
    at.select_slider(key="ppo.batch.tiny").set_value(8).run()
    at.select_slider(key="ppo.beta.tiny").set_value(0.1).run()
    at.button(key="ppo.train").click().run()
    assert_no_exception(at)
    lv = at.session_state["ppo.live"]
    rows = lv.run.history
    assert [r["step"] for r in rows] == [1, 2, 3] and lv.run.stopped is StopReason.STEPS
    trainer = lv.result["trainer"]
    assert lv.status == "finished" and trainer.result.stopped is StopReason.STEPS
    assert "Run finished (all steps done) after 3 steps" in texts(at)
    shown = {m.label: m.value for m in at.metric}
    assert shown["step"] == "3" and shown["π_ref costs here"] == "0.0 MB"
    assert f"{rows[-1]['win_rate']:.2f}" == shown["win-rate vs π_ref"]
    assert len(at.get("plotly_chart")) >= 1 and at.dataframe[0].value.shape[0] >= 1
    assert trainer.cfg.beta == 0.1 and trainer.cfg.batch_size == 8
    shared = trainer.policy.ref
    assert models.state_fingerprint(shared) == models.state_fingerprint(models.load_tiny_gpt("cpu").model)
    assert models.state_fingerprint(trainer.policy.lm) != models.state_fingerprint(shared)

    # The same settings in a second session: the finished class run, at once, from its record.
    two = open_page(PAGE)
    two.button(key="ppo.quickstart").click().run()
    two.slider(key="ppo.steps.tiny").set_value(3).run()
    two.select_slider(key="ppo.batch.tiny").set_value(8).run()
    two.select_slider(key="ppo.beta.tiny").set_value(0.1).run()
    two.button(key="ppo.train").click().run()
    assert_no_exception(two)
    assert "These settings ran before" in texts(two)
    assert two.session_state["ppo.live"].run.history == rows
    assert two.session_state["ppo.live"].result["trainer"].policy is not None     # its own copy, loaded
    # ... and "Run it again live" trains the same key again: the same history, step for step
    two.button(key="ppo.again").click().run()
    assert_no_exception(two)
    again = two.session_state["ppo.live"].run.history
    assert "These settings ran before" not in texts(two)
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in again] == \
        [{k: v for k, v in r.items() if k != "seconds"} for r in rows]

    # A Stop click while the page follows a run: this learner leaves it; the steps seen stay.
    lv.status = "running"
    lv.result = {"job_id": lv.result["outcome"].id, "rows": lv.run.history[:2]}
    lv.run.history = lv.result["rows"]
    at.button(key="ppo.stop").click().run()
    assert_no_exception(at)
    lv = at.session_state["ppo.live"]
    assert lv.stopped and lv.run.stopped is StopReason.STOPPED and len(lv.run.history) == 2
    assert "Run finished (stopped by you) after 2 steps" in texts(at)
    assert "You left the run" in texts(at)
    at.switch_page("pages/w3_dpo.py").run()       # a run left half way has no policy to compare with
    assert at.checkbox(key="dpo.with_ppo").value is True
    at.switch_page(PAGE).run()
    at.button(key="ppo.train").click().run()      # the record again: this session's policy is back
    assert at.session_state["ppo.live"].result["trainer"].policy is not None

    # The DPO page sees this PPO run (RLHFState.ppo reads the PPO page's LiveRun): it offers to
    # compare with it instead of running PPO again.
    at.switch_page("pages/w3_dpo.py").run()
    assert_no_exception(at)
    assert at.checkbox(key="dpo.with_ppo").value is False
    # ... and its table judges that PPO policy (its weights loaded in the DPO run's worker)
    at.slider(key="dpo.epochs").set_value(1).run()
    at.button(key="dpo.run").click().run()
    assert_no_exception(at)
    table = at.dataframe[0].value
    mine = at.session_state["ppo.live"].result["trainer"]      # the PPO page's last run (its defaults, above)
    assert list(table["method"]) == ["starting model π_ref", "DPO (β = 0.1)", f"PPO (β = {mine.cfg.beta})"]
    assert table.loc[2, "steps"] == len(mine.history)


@pytest.mark.slow
def test_each_policy_has_its_own_defaults():
    """Switching to SmolLM2 + LoRA must not keep the tiny GPT's settings (1 step, nothing
    learned): each policy has its own widgets and defaults."""
    at = open_page(PAGE)
    at.button(key="ppo.quickstart").click().run()
    assert at.select_slider(key="ppo.lr.tiny").value == 1e-3 and at.slider(key="ppo.steps.tiny").value == 60
    assert at.select_slider(key="ppo.beta.tiny").value == 0.3
    at.radio(key="ppo.model").set_value("lora").run()
    assert_no_exception(at)
    assert at.select_slider(key="ppo.lr.lora").value == 5e-4
    assert at.slider(key="ppo.steps.lora").value == 20 and at.select_slider(key="ppo.batch.lora").value == 16
    assert at.select_slider(key="ppo.beta.lora").value == 0.1
    assert "SmolLM2 + LoRA has its own defaults" in texts(at)
    assert "Measured with these defaults" in texts(at)    # the figures come from assets/measured


@pytest.mark.slow
def test_the_page_opens_at_the_one_source_of_defaults():
    """The page's tiny-GPT widgets, PPOConfig() (which the benches and tests construct) and
    POLICY_DEFAULTS are one source: a dataclass default that disagrees with the page fails here."""
    from lessons.rlhf import ppo

    at = open_page(PAGE)
    at.button(key="ppo.quickstart").click().run()
    cfg = ppo.PPOConfig()
    page = {"beta": at.select_slider(key="ppo.beta.tiny").value, "lr": at.select_slider(key="ppo.lr.tiny").value,
            "steps": at.slider(key="ppo.steps.tiny").value, "max_seconds": at.slider(key="ppo.seconds.tiny").value,
            "batch_size": at.select_slider(key="ppo.batch.tiny").value}
    assert page == ppo.POLICY_DEFAULTS["tiny"] == {k: getattr(cfg, k) for k in page}
    assert (at.slider(key="ppo.epochs").value, at.select_slider(key="ppo.clip").value,
            at.select_slider(key="ppo.lambda").value, at.slider(key="ppo.max_new").value) == \
        (cfg.ppo_epochs, cfg.clip_eps, cfg.lam, cfg.max_new_tokens)


@pytest.mark.slow
def test_a_learner_follows_the_teachers_broadcast_run_from_its_first_step():
    """The teacher's run (broadcast) in a worker; a learner's page offers to follow it and then
    shows the same run, step for step."""
    from lessons.rlhf import ppo_job, recorded
    from ui import class_runs

    class_runs.ensure_workers()
    lab = ppo_job.lab()
    s = recorded.ppo_settings(steps=4, batch_size=8, seed=7)
    air = class_runs.request("ppo", ppo_job.spec(s, 300, "one-click", lab.fingerprints(s), 1), "teacher-tab",
                             shareable=True, max_seconds=300, broadcast=True).job
    with TeacherTab(air.id):     # the teacher's page polls (and so heartbeats) while its run goes
        at = open_page(PAGE)                                   # a learner, no reward model of their own
        assert "Your teacher is training live" in texts(at) and "β = 0.3" in texts(at)
        at.button(key="ppo.follow_teacher").click().run(timeout=180)
        assert_no_exception(at)
        lv = at.session_state["ppo.live"]
        job = class_runs.poll(air.id)
        assert job.job.state == "done" and lv.run.history == job.rows and len(job.rows) == 4
        assert "Your teacher's run, followed live from its first step." in texts(at)
        assert "Run finished (all steps done) after 4 steps" in texts(at)
        assert "Your teacher is training live" not in texts(at)     # over: no banner
