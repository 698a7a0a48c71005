"""AppTest: the RLHF pages' one click (the default preference pairs and reward model,
lessons/rlhf/recorded.ONE_CLICK) is one class run (lessons/rlhf/preferences_reward_job.py, in a
worker process): a class pressing it on the PPO, DPO and reward-hacking pages costs one run, and
each learner gets the same pairs and r_phi that a run of their own would give, as their own copy."""
import time

import pytest
import torch

from lessons.rlhf import recorded, recorded_pages
from tests.app.helpers import assert_no_exception, open_page


@pytest.mark.slow
def test_a_class_pressing_the_one_click_costs_one_run_and_gets_what_its_own_run_gives():
    from sqlalchemy import func, select

    from lessons import models
    from lessons.rlhf import preferences, preferences_reward_job as job, reward_model
    from ui import class_runs, rlhf

    t0 = time.time()
    sessions = []
    for page in ("ppo", "dpo", "reward-hacking"):
        at = open_page(f"pages/w3_{page.replace('-', '_')}.py", timeout=300)
        at.button(key=f"{page}.quickstart").click().run()
        assert_no_exception(at)
        assert any("Using your reward model" in c.value for c in at.caption)
        sessions.append(at.session_state[rlhf.KEY])
    with class_runs.engine().connect() as c:                  # one run for three learners (none: an earlier one's record)
        runs = c.execute(select(func.count()).select_from(class_runs.jobs_t).where(
            class_runs.jobs_t.c.kind == job.KIND, class_runs.jobs_t.c.created_at >= t0)).scalar_one()
    assert runs <= 1
    first = sessions[0]
    for s in sessions[1:]:
        assert s.rm is not first.rm                           # each learner's own copy of r_phi
        assert torch.equal(s.rm.head.weight, first.rm.head.weight) and torch.equal(s.rm.feat_mu, first.rm.feat_mu)
        assert s.pairs == first.pairs and s.pairs is not first.pairs   # the list is each learner's own
        assert s.recipe == recorded.ONE_CLICK and s.labeler == first.labeler
        assert s.one_click_pairs == s.pairs
    # a learner's own build in this process (the recipe the pages ran before it was a class run)
    tiny, enc = models.load_tiny_gpt("cpu"), models.load_minilm("cpu")
    s = recorded_pages.REWARD_MODEL
    own_pairs = preferences.simulate_with_model(tiny.model, tiny.tokenizer, preferences.Labeler(s["labeler"]),
                                                n_pairs=s["n_pairs"], seed=s["seed"]).pairs
    own, res = reward_model.fit_on_pairs(enc.model, enc.tokenizer, list(own_pairs), seed=s["rm_seed"], epochs=s["epochs"])
    assert list(own_pairs) == first.pairs
    assert torch.allclose(own.head.weight, first.rm.head.weight, rtol=1e-4, atol=1e-6)
    assert res.test_acc == first.rm_result.test_acc and res.train_acc == first.rm_result.train_acc
    sessions[1].pairs.append(sessions[1].pairs[0])            # one learner's change stays theirs
    assert len(sessions[2].pairs) == len(first.pairs)
