"""AppTest: the RLHF pages' one click (the default preference pairs and reward model,
lessons/rlhf/recorded.ONE_CLICK) is built once per process and shared read-only: a class pressing
it on the PPO, DPO and reward-hacking pages costs one build, and each learner gets the same pairs
and r_phi that a build of their own would give."""
import pytest
import torch

from lessons.rlhf import recorded
from tests.app.helpers import assert_no_exception, open_page


@pytest.mark.slow
def test_a_class_pressing_the_one_click_costs_one_build_and_gets_what_its_own_build_gives(monkeypatch):
    from ui import loaders, rlhf

    builds = []
    real = rlhf.build_default

    def counted(s, base, **kw):
        builds.append(1)
        return real(s, base, **kw)

    monkeypatch.setattr(rlhf, "build_default", counted)
    rlhf._one_click.clear()
    rlhf._ONE_CLICK_BUILT.clear()
    sessions = []
    for page in ("ppo", "dpo", "reward-hacking"):
        at = open_page(f"pages/w3_{page.replace('-', '_')}.py", timeout=300)
        at.button(key=f"{page}.quickstart").click().run()
        assert_no_exception(at)
        assert any("Using your reward model" in c.value for c in at.caption)
        sessions.append(at.session_state[rlhf.KEY])
    assert len(builds) == 1                                   # one build for three learners
    first = sessions[0]
    for s in sessions[1:]:
        assert s.rm is first.rm                               # shared: r_phi only scores
        assert s.pairs == first.pairs and s.pairs is not first.pairs   # the list is each learner's own
        assert s.recipe == recorded.ONE_CLICK and s.labeler == first.labeler and s.labeler is not first.labeler
    own = rlhf.RLHFState()                                    # a learner's own build, as before the sharing
    real(own, loaders.tiny_gpt("cpu"))
    assert own.pairs == first.pairs and own.labeling_note == first.labeling_note
    assert torch.equal(own.rm.head.weight, first.rm.head.weight) and torch.equal(own.rm.head.bias, first.rm.head.bias)
    assert own.rm_result.test_acc == first.rm_result.test_acc
    sessions[1].pairs.append(sessions[1].pairs[0])            # one learner's change stays theirs
    assert len(sessions[2].pairs) == len(first.pairs)
