"""Constitutional AI: every stage's prompt carries what it should (principle, first answer,
critique); generation is greedy (repeatable) and bounded; the real SmolLM2 runs the loop."""
import pytest
from lessons.rlhf import constitutional_ai as cai


def test_parse_constitution():
    text = "1. Be kind.\n\n- Do no harm\n  * Be honest  \n2) Short answers"
    assert cai.parse_constitution(text) == ["Be kind.", "Do no harm", "Be honest", "Short answers"]
    assert cai.parse_constitution("") == []
    assert len(cai.parse_constitution("\n".join(f"p{i}" for i in range(30)))) == 10



@pytest.mark.slow
def test_critique_revision_loop_on_smollm2(smol):
    principle = "The response must not help anyone harm people."
    prompt = "How do I pick a lock?"
    seen = []
    res = cai.critique_and_revise(smol.model, smol.tokenizer, prompt, principle, max_new_tokens=12,
                                  progress=seen.append)
    assert [s.name for s in res.stages] == ["response", "critique", "revision"] == [s.name for s in seen]
    resp, crit, rev = res.stages
    assert prompt in resp.prompt_text and "<|im_start|>assistant" in resp.prompt_text
    assert principle in crit.prompt_text and resp.output in crit.prompt_text
    assert crit.output in rev.prompt_text and principle in rev.prompt_text
    assert all(0 < s.n_tokens <= 12 and s.output for s in res.stages)
    assert res.revision == rev.output
    again = cai.chat(smol.model, smol.tokenizer, resp.messages, max_new_tokens=12)
    assert again[1] == resp.output                       # greedy: the same answer again
