"""Week 1: every Try-this and every caption that states an outcome, performed as an experiment
with the page's own lessons functions and the page's default seed (issue #11, point 2).
If a page's prose changes, change the experiment here with it."""
import math

import pytest
import torch

from lessons import models
from lessons.transformer import attention, embeddings
from lessons.pretraining import objectives, tiny_gpt
from lessons.efficiency import quantization as qz
from lessons.pretraining import scaling_laws
from lessons.decoding import generation, sampling


def _page(name: str) -> str:
    from lessons import course

    return (course.PAGES_DIR / name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- self-attention
WORDS = "the cat sat on the mat".split()   # the page's default, seed 0, d_k 4


def test_self_attention_causal_first_word_attends_only_to_itself_last_to_all():
    ex = attention.toy_example(WORDS, d_k=4, seed=0, causal=True)
    w = ex.steps.weights
    assert float(w[0, 0]) == pytest.approx(1.0)
    assert bool((w[-1] > 0).all())


def test_self_attention_unscaled_dk8_spreads_scores_and_peaks_softmax():
    scaled = attention.toy_example(WORDS, d_k=8, seed=0, scale=True)
    raw = attention.toy_example(WORDS, d_k=8, seed=0, scale=False)
    assert float(raw.steps.scaled.std()) > 2 * float(scaled.steps.scaled.std())
    # the page's "largest weight" metric, for the default query row 0
    assert float(raw.steps.weights[0].max()) > float(scaled.steps.weights[0].max())


def test_self_attention_identical_words_identical_qkv_and_outputs():
    assert "identical words get identical rows of Q, K and V" in _page("w1_self_attention.py")
    words = "the cat saw the cat".split()
    ex = attention.toy_example(words, d_k=4, seed=0)
    for m in (ex.x, ex.q, ex.k, ex.v, ex.steps.output):
        assert torch.equal(m[1], m[4]) and torch.equal(m[0], m[3])
    assert not torch.equal(ex.q[0], ex.q[1])
    # the words typed matter: another word in the same position changes its vectors
    other = attention.toy_example("the dog saw the cat".split(), d_k=4, seed=0)
    assert not torch.equal(other.q[1], ex.q[1]) and torch.equal(other.q[0], ex.q[0])


def test_self_attention_seed_changes_the_pattern():
    a, b = attention.toy_example(WORDS, seed=0), attention.toy_example(WORDS, seed=1)
    assert not torch.allclose(a.steps.weights, b.steps.weights)


# --------------------------------------------------------------------------- sampling lab
@pytest.fixture(scope="module")
def logits(smol):
    return {p: sampling.next_token_logits(smol.model, smol.tokenizer, p)
            for p in ("2 + 2 =", "Once upon a time, there was a")}


def test_sampling_temperature_0_one_bar_and_entropy_climbs(logits):
    z = logits["Once upon a time, there was a"]
    assert sampling.explain_filtering(z, temperature=0.0).n_kept == 1
    assert sampling.explain_filtering(z, 2.0).entropy_final > sampling.explain_filtering(z, 1.0).entropy_final


def test_sampling_top_p_adapts_top_k_does_not(logits):
    confident = sampling.explain_filtering(logits["2 + 2 ="], 1.0, 0, 0.9).n_kept
    open_ended = sampling.explain_filtering(logits["Once upon a time, there was a"], 1.0, 0, 0.9).n_kept
    assert confident <= 10 and open_ended >= 100, (confident, open_ended)


def test_sampling_top_k_1_is_greedy_whatever_the_temperature(logits):
    z = logits["Once upon a time, there was a"]
    for t in (0.5, 1.0, 2.0):
        f = sampling.explain_filtering(z, t, top_k=1)
        assert f.n_kept == 1 and int(f.probs_final.argmax()) == int(z.argmax())


def test_sampling_few_draws_differ_many_agree(logits):
    p = sampling.explain_filtering(logits["Once upon a time, there was a"], 1.0).probs_final
    few = [sampling.draw_samples(p, 10, seed=s).empirical for s in (0, 1, 2)]
    assert few[0] != few[1] or few[1] != few[2]
    many = [sampling.draw_samples(p, 10_000, seed=s) for s in (0, 1, 2)]
    for r in many:
        assert max(abs(a - b) for a, b in zip(r.empirical, r.theoretical)) < 0.02
    assert all(r.tv_distance < few_r for r, few_r in
               zip(many, [sampling.draw_samples(p, 10, seed=s).tv_distance for s in (0, 1, 2)]))


def test_sampling_temperature_before_top_p_keeps_more_tokens_when_hotter(logits):
    z = logits["Once upon a time, there was a"]
    assert sampling.explain_filtering(z, 1.5, 0, 0.9).n_kept > sampling.explain_filtering(z, 0.5, 0, 0.9).n_kept


def test_sampling_removed_tokens_are_drawn_visible(logits):
    from ui import decoding

    z = logits["Once upon a time, there was a"]
    steps = sampling.explain_filtering(z, 1.0, top_k=5, top_p=0.9, n=20)
    fig = decoding.filter_figure(steps, [str(i) for i in steps.ids], 0.9)
    removed = [t for t in fig.data if t.type == "bar" and (t.name or "").startswith("removed by top-k")]
    assert removed and sum(1 for y in removed[0].y if y) == 15      # 20 shown, top-k kept 5
    assert all(y > 0 for y in removed[0].y if y is not None)


# --------------------------------------------------------------------------- scaling laws
def test_scaling_refit_lower_at_1e18_higher_at_chinchillas_budget():
    small, big = scaling_laws.compute_optimal(1e18), scaling_laws.compute_optimal(10 ** 23.77)
    assert f"{small.loss_epoch:.2f} vs {small.loss_chinchilla:.2f}" == "3.49 vs 3.54"
    assert small.loss_epoch < small.loss_chinchilla
    assert big.loss_epoch > big.loss_chinchilla
    assert f"{big.loss_epoch:.2f} vs {big.loss_chinchilla:.2f}" == "1.97 vs 1.94"
    assert "3.49 vs 3.54" in _page("w1_scaling_laws.py") and "1.97 vs 1.94" in _page("w1_scaling_laws.py")


def test_scaling_200_tokens_per_param_3x_smaller_epoch_loss_a_little_higher():
    a, b = scaling_laws.compute_optimal(10 ** 23.77, 20), scaling_laws.compute_optimal(10 ** 23.77, 200)
    assert a.params / b.params == pytest.approx(math.sqrt(10))
    assert f"{a.loss_epoch:.3f} → {b.loss_epoch:.3f}" in _page("w1_scaling_laws.py")
    assert 0 < b.loss_epoch - a.loss_epoch < 0.05
    assert b.loss_chinchilla < a.loss_chinchilla        # "the paper's own formula fit even a slightly lower one"


# --------------------------------------------------------------------------- quantization
def test_quantization_70000_overflows_fp16_not_bf16():
    assert math.isinf(qz.float_layout(70000, "fp16").stored)
    assert qz.float_layout(70000, "bf16").stored == 70144


def test_quantization_bf16_range_caption():
    assert math.isinf(qz.float_layout(3.4e38, "bf16").stored)      # the caption's warning
    assert math.isfinite(qz.float_layout(3.4e38, "fp32").stored)
    assert f"{qz.float_layout(1.0, 'bf16').max_value:.3g}" == "3.39e+38"
    assert math.isinf(qz.float_layout(65504 * 1.01, "fp16").stored)
    assert math.isfinite(qz.float_layout(65504 * 1.01, "bf16").stored)


def test_quantization_0_1_digits_and_int8_step():
    assert round(qz.float_layout(0.1, "fp16").digits) == 3 and round(qz.float_layout(0.1, "bf16").digits) == 2
    q = qz.int8_absmax(0.3, 100)
    assert f"{q.scale:.2f}" == "0.79" and q.q == 0 and q.stored == 0


# --------------------------------------------------------------------------- embeddings
def test_embeddings_unk_words_are_named_and_not_the_most_similar_pair(minilm):
    wv = embeddings.word_vectors(minilm, ["king", "queen", "🍕", "🤖", "apple"])
    assert embeddings.unknown_words(minilm, wv) == ["🍕", "🤖"]
    sim = embeddings.cosine_matrix(wv.vectors)
    assert float(sim[2, 3]) == pytest.approx(1.0)                  # the two [UNK]s: one shared row
    i, j, c = embeddings.most_similar_pair(wv, sim)
    assert {wv.words[i], wv.words[j]} != {"🍕", "🤖"} and c < 0.999


# --------------------------------------------------------------------------- prompts and inference
def test_prompt_longer_than_the_tiny_gpts_window_says_context_window():
    if not models.tiny_gpt_available():
        pytest.skip("the tiny GPT is not built")
    lm = models.load_tiny_gpt()
    window = lm.model.config.n_positions
    prompt = "word " * (window + 20)
    tr = generation.generate_steps(lm.model, lm.tokenizer, prompt, generation.GenSettings(max_new_tokens=5))
    assert tr.new_ids == [] and tr.stop_reason == "context window"
    short = generation.generate_steps(lm.model, lm.tokenizer, "ROMEO:", generation.GenSettings(max_new_tokens=3))
    assert short.stop_reason in ("max_new_tokens", "EOS token") and len(short.new_ids) <= 3


# --------------------------------------------------------------------------- pretraining
def test_masked_lm_caption_counts_the_real_rate():
    toks = "The teacher explained the experiment and the students took careful notes .".split()
    for rate in (0.15, 0.5):
        o = objectives.masked_lm(toks, seed=0, mask_prob=rate)
        assert sum(1 for t in o.targets if t) == len(o.loss_positions)
    assert "~15 %" not in _page("w1_pretraining_objectives.py")


def test_bits_per_character_compares_across_vocabularies(smol):
    from lessons.pretraining import surprisal

    tiny = models.load_tiny_gpt()
    line = "ROMEO: But soft, what light through yonder window breaks? It is the east, and Juliet is the sun."
    s_smol = surprisal.surprisal(smol.model, smol.tokenizer, line, max_tokens=96)
    s_tiny = surprisal.surprisal(tiny.model, tiny.tokenizer, line, max_tokens=96)
    assert len(s_smol.tokens) != len(s_tiny.tokens)                # different tokens: PPL not comparable
    for s in (s_smol, s_tiny):
        total_bits = sum(b for b in s.bits if b is not None)
        assert s.bits_per_char == pytest.approx(total_bits / sum(len(t) for t, b in zip(s.tokens, s.bits)
                                                                  if b is not None))


def test_live_training_applies_no_step_after_stop():
    tok = models.load_tiny_gpt().tokenizer
    ids = tiny_gpt.encode(tok, "To be, or not to be, that is the question. " * 40)
    cfg = tiny_gpt.live_config(len(tok), tok.eos_token_id, n_layer=1, n_embd=32)
    asked = []
    log = tiny_gpt.TrainLog()

    def stop_inside_the_third_step() -> bool:
        """Stop is asked before each step (the run loop) and again inside it, just before the
        update. After two steps: the first ask (before step 3) says go on, the second (step 3's
        loss and gradients computed) says stop, as a click arriving mid-step does."""
        if log.steps_done < 2:
            return False
        asked.append(1)
        return len(asked) == 2

    a = tiny_gpt.fresh_model(cfg, seed=0)
    tiny_gpt.train_causal_lm(a, ids, steps=10, batch_size=2, block=16, log=log, should_stop=stop_inside_the_third_step)
    assert len(asked) == 2                                   # step 3 was entered: the stop came from inside it
    assert log.steps == [1, 2] and log.stopped.value == "stopped"
    b, b_log = tiny_gpt.fresh_model(cfg, seed=0), tiny_gpt.TrainLog()
    tiny_gpt.train_causal_lm(b, ids, steps=10, batch_size=2, block=16, log=b_log,
                       should_stop=lambda: b_log.steps_done >= 2)
    assert models.state_fingerprint(a) == models.state_fingerprint(b)   # exactly two updates in both


# --------------------------------------------------------------------------- domain adaptation
def test_domain_adaptation_try_this_as_measured():
    """The page's Try-this on its recorded runs (lessons/pretraining/recorded.py: the default run and
    the Try-this's two learning rates, trained as the page trains them; tests/unit/pretraining/
    test_domain_adaptation.py proves the records are current and replays the start of each)."""
    from lessons.pretraining import domain_adaptation
    from lessons.pretraining import recorded as domain_recorded

    lab = domain_recorded.Lab(models.load_tiny_gpt(), models.load_smollm2())

    def curve(**over):
        rec = domain_recorded.recorded(lab, domain_recorded.TRAINING, domain_recorded.training(**over))
        assert rec is not None, f"no current record of {over} (scripts/record_runs.py)"
        assert rec.result["steps"] == domain_recorded.training(**over)["steps"]     # every step done
        return rec.result["curve"]

    hot = curve(steps=100, lr=3e-3)
    start, best = hot[0][1], min(c[1] for c in hot)
    low = next(c[0] for c in hot if c[1] == best)
    assert best < start and hot[-1][1] > start           # falls first, then climbs above the start
    assert low <= 30                                     # "for the first ~20 steps"
    assert hot[-1][2] > 5 * hot[0][2]                    # Shakespeare explodes
    cool, default = curve(lr=1e-4), curve()
    assert domain_adaptation.TRAIN_DEFAULTS["lr"] == 3e-4
    assert cool[-1][1] < cool[-2][1] < cool[0][1]        # still falling at the end
    assert cool[-1][2] - cool[0][2] < default[-1][2] - default[0][2] < hot[-1][2] - hot[0][2]  # forgets least
    assert default[-1][1] < start and default[-1][2] > default[0][2]   # the default shows both effects


# --------------------------------------------------------------------------- tokens
def test_tokens_case_changes_bpe_not_minilm_and_emoji_is_bytes_vs_unk(smol, minilm):
    from lessons.transformer import tokens
    from lessons.core import pieces

    toks = {"SmolLM2 BPE": (smol.tokenizer, pieces.BYTE_LEVEL), "MiniLM WordPiece": (minilm.tokenizer, pieces.WORDPIECE)}
    low, up = tokens.compare(toks, "unbelievably"), tokens.compare(toks, "Unbelievably")
    assert low[0].pieces != up[0].pieces and low[1].pieces == up[1].pieces
    emoji = tokens.compare(toks, "🤖")
    assert "[UNK]" in emoji[1].pieces and "[UNK]" not in emoji[0].pieces
    assert any(pieces.readable_piece(p, pieces.BYTE_LEVEL).startswith("<F0 9F") for p in emoji[0].pieces)


# --------------------------------------------------------------------------- positional encoding
def test_positional_fewer_dims_far_positions_look_more_alike():
    from lessons.transformer import positional

    far = (torch.arange(64)[:, None] - torch.arange(64)[None]).abs() >= 8
    max_far = {d: float(positional.cosine_between_positions(positional.sinusoidal(64, d))[far].max()) for d in (16, 128)}
    assert max_far[16] > max_far[128]


def test_rope_turning_speed_1_rad_to_almost_nothing_and_diagonals_constant(smol):
    from lessons.transformer import positional

    cfg = smol.model.config
    head_dim, base = cfg.hidden_size // cfg.num_attention_heads, float(cfg.rope_parameters["rope_theta"])
    f = positional.rope_frequencies(head_dim, base)
    assert len(f) == 32 and float(f[0]) == 1.0 and float(f[-1]) < 1e-4
    patterns = []
    for seed in (0, 1):                                    # the page's q/k seed widget
        g = torch.Generator().manual_seed(seed)
        q, k = torch.randn(head_dim, generator=g), torch.randn(head_dim, generator=g)
        s = positional.rope_scores(q, k, 24, base)
        assert float((s[1:, 1:] - s[:-1, :-1]).abs().max()) < 1e-4     # constant diagonals
        patterns.append(s)
    assert not torch.allclose(patterns[0], patterns[1])


# --------------------------------------------------------------------------- architectures
def test_architectures_allowed_cells_and_tall_cross_attention():
    from lessons.transformer import architectures

    m = architectures.mask_patterns(architectures.words("The cat sleeps on the warm mat."), architectures.words("Le chat dort sur le tapis chaud du salon ."))
    T = len(m.source)
    assert int(m.encoder_self.sum()) == T * T and int(m.decoder_self.sum()) == T * (T + 1) // 2
    assert m.cross.shape[0] > m.cross.shape[1]             # longer output: a tall rectangle


# --------------------------------------------------------------------------- data quality
def test_data_quality_threshold_1_and_no_stopwords():
    from lessons.pretraining import data_quality as dq

    docs = dq.load_sample()
    strict = {d.source: d.rejected_by for d in dq.run_filters(docs, dq.FilterConfig(near_dup_jaccard=1.0)).docs}
    assert strict["news-copy"] == "duplicate"
    assert strict["news-syndicated"] != "duplicate" and strict["forum-dup"] != "duplicate"
    default = {d.source: d.rejected_by for d in dq.run_filters(docs, dq.FilterConfig()).docs}
    assert all(default[s] == "language" for s in ("french", "german", "spanish"))
    loose = {d.source: d.rejected_by for d in dq.run_filters(docs, dq.FilterConfig(min_stopwords=0)).docs}
    assert all(loose[s] == "" for s in ("french", "german", "spanish"))


# --------------------------------------------------------------------------- next token
def test_next_token_paris_about_077_and_the_logit_lens_finds_it_late(smol):
    from lessons.transformer import next_token

    tr = next_token.trace(smol, "The capital of France is")
    assert tr.top_labels[0].strip("␣ ") == "Paris" and round(tr.top_probs[0], 2) in (0.76, 0.77, 0.78)
    first = next(i for i, l in enumerate(tr.lens_labels) if l.strip("␣ ") == "Paris")
    assert first >= 2 * len(tr.lens_labels) // 3          # only in the last third of the 30 blocks
    spaced = next_token.trace(smol, "The capital of France is ")
    assert spaced.top_labels[:3] != tr.top_labels[:3]


# --------------------------------------------------------------------------- generation
def test_generation_top_k_1_sampling_equals_greedy_whatever_the_seed():
    lm = models.load_tiny_gpt()
    greedy = generation.generate_steps(lm.model, lm.tokenizer, "ROMEO:",
                                         generation.GenSettings(do_sample=False, max_new_tokens=12))
    for seed in (0, 7):
        s = generation.GenSettings(do_sample=True, top_k=1, temperature=1.3, seed=seed, max_new_tokens=12)
        assert generation.generate_steps(lm.model, lm.tokenizer, "ROMEO:", s).new_ids == greedy.new_ids
