"""The truth behind every predict-then-check question.

A predict question (assets/questions/<lesson>.toml) names a check here and gives its
parameters. The learner commits a prediction first; then the check computes the true value
with the SAME lessons function the lesson's widget uses, and the page compares the two.

Checks are pure Python. Models come from a provider object with the methods
``smollm2()``, ``minilm()``, ``tiny_gpt()`` and ``gpt2_tokenizer()``: the page layer
passes its cached, read-only loaders (ui/loaders.py); tests pass lessons.models loaders.
A check returns a number (compared within the question's tolerance) or the text of the
right option. torch is imported inside the checks that need it: Home imports this module, and
its first render must not wait for torch (tests/unit/serving/test_first_render.py).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Protocol


class ModelSource(Protocol):
    def smollm2(self): ...
    def minilm(self): ...
    def tiny_gpt(self): ...
    def gpt2_tokenizer(self): ...


Check = Callable[[dict, ModelSource], Any]
CHECKS: dict[str, Check] = {}


def check(name: str):
    def deco(fn: Check) -> Check:
        CHECKS[name] = fn
        return fn
    return deco


def run(name: str, params: dict, models: ModelSource):
    if name not in CHECKS:
        raise KeyError(f"no check named {name!r}")
    return CHECKS[name](dict(params), models)


# ============================================================================ Week 1
@check("tokens.gpt2_count")
def _tokens_gpt2_count(p, m):
    from lessons.transformer import tokens
    from lessons.core import pieces
    return tokens.tokenize(m.gpt2_tokenizer(), p["text"], "GPT-2 BPE", pieces.BYTE_LEVEL).n_tokens


@check("tokens.overflow")
def _tokens_overflow(p, m):
    from lessons.transformer import tokens
    return tokens.context_fill(int(p["n_tokens"]), int(p["window"]))["overflow"]


@check("embeddings.bank_last_layer")
def _embeddings_bank(p, m):
    from lessons.transformer import embeddings
    sim = embeddings.contextual(m.minilm(), p["word"], p["sentence_a"], p["sentence_b"]).layer_similarity[-1]
    return "below 0.9" if sim < 0.9 else "0.9 or more"


@check("positional.neighbour_cosine")
def _positional_cos(p, m):
    from lessons.transformer import positional
    cos = positional.cosine_between_positions(positional.sinusoidal(int(p["length"]), int(p["d_model"])))
    i, j = int(p["i"]), int(p["j"])
    return float(cos[i, j])


@check("self_attention.first_row_causal")
def _self_attention_first(p, m):
    from lessons.transformer import attention
    ex = attention.toy_example(p["words"].split(), d_k=int(p["d_k"]), seed=int(p["seed"]), causal=True)
    return float(ex.steps.weights[0, 0])


@check("attention_maps.above_diagonal")
def _attention_maps_upper(p, m):
    from lessons.transformer import attention
    run_ = attention.run_attention(m.smollm2(), p["text"])
    top = attention.upper_triangle_max(attention.head_average(run_, int(p["layer"])))
    return "exactly 0" if top == 0 else "more than 0"


@check("next_token.top")
def _next_token_top(p, m):
    from lessons.transformer import next_token
    return next_token.trace(m.smollm2(), p["prompt"], top_k=5).top_labels[0]


@check("architectures.causal_allowed")
def _architectures_causal(p, m):
    from lessons.transformer import architectures
    w = architectures.words(p["sentence"])
    return int(architectures.mask_patterns(w, w).decoder_self.sum())


@check("prompts.chat_template_longer")
def _prompts_chat(p, m):
    from lessons.prompting import in_context_learning
    lm = m.smollm2()
    chat = lm.tokenizer.apply_chat_template([{"role": "user", "content": p["prompt"]}], tokenize=False,
                                            add_generation_prompt=True)
    plain = in_context_learning.token_budget(lm.tokenizer, lm.model, p["prompt"], 1).prompt_tokens
    templ = in_context_learning.token_budget(lm.tokenizer, lm.model, chat, 1).prompt_tokens
    return templ - plain


def _filtered(p, m):
    """The sampling lab's filtered next-token distribution for a prompt and settings."""
    from lessons.decoding import sampling
    lm = m.smollm2()
    logits = sampling.next_token_logits(lm.model, lm.tokenizer, p["prompt"])
    return sampling.explain_filtering(logits, float(p["temperature"]), int(p.get("top_k", 0)),
                                      float(p.get("top_p", 1.0)))


@check("sampling.entropy_after")
def _sampling_entropy(p, m):
    return _filtered(p, m).entropy_final


@check("sampling.tokens_left")
def _sampling_left(p, m):
    return _filtered(p, m).n_kept


@check("generation.greedy_seeds")
def _generation_greedy(p, m):
    from lessons.decoding import generation
    lm = m.smollm2()
    texts = []
    for seed in p["seeds"]:
        s = generation.GenSettings(do_sample=False, max_new_tokens=int(p["max_new_tokens"]), seed=int(seed))
        texts.append(generation.generate_steps(lm.model, lm.tokenizer, p["prompt"], s).text)
    return "the same text" if len(set(texts)) == 1 else "different texts"


@check("icl.tokens_per_example")
def _icl_tokens(p, m):
    from lessons.prompting import in_context_learning
    task = in_context_learning.load_task(p["task"])
    return in_context_learning.tokens_per_example(m.smollm2().tokenizer, task, list(task.examples))


@check("lifecycle.advice")
def _lifecycle(p, m):
    from lessons.pretraining import lifecycle
    return lifecycle.prompting_or_finetuning(int(p["n_labelled"]), int(p["n_tasks"]), float(p["gain"]),
                                             int(p["prompt_tokens"]), int(p["window"])).approach


@check("pretraining.clm_targets")
def _pretraining_clm(p, m):
    from lessons.pretraining import objectives, tiny_gpt
    return len(objectives.causal_lm(p["sentence"].split()).loss_positions)


@check("pretraining.untrained_loss")
def _pretraining_untrained(p, m):
    from lessons.pretraining import objectives, tiny_gpt
    from lessons.core.perplexity import perplexity
    tiny = m.tiny_gpt()
    cfg = tiny_gpt.live_config(len(tiny.tokenizer), tiny.tokenizer.eos_token_id or 0, n_layer=1, n_embd=32)
    model = tiny_gpt.fresh_model(cfg, seed=int(p["seed"]))
    ids = tiny_gpt.encode(tiny.tokenizer, p["text"])
    return math.log(perplexity(model, ids, block=32, max_windows=4))


@check("data_quality.kept_share")
def _data_quality(p, m):
    from lessons.pretraining import data_quality as dq
    return dq.run_filters(dq.load_sample(), dq.FilterConfig(min_words=int(p["min_words"]))).kept_fraction


@check("quantization.inference_gb")
def _quantization(p, m):
    from lessons.efficiency import quantization as qz
    return qz.memory_estimate(float(p["params"]), p["fmt"])["inference_gb"]


@check("scaling.optimal_params_b")
def _scaling(p, m):
    from lessons.pretraining import scaling_laws
    return scaling_laws.compute_optimal(float(p["flops"]), float(p.get("tokens_per_param", 20))).params / 1e9


@check("domain.harder_text")
def _domain(p, m):
    from lessons import corpus
    from lessons.pretraining import domain_adaptation
    tiny = m.tiny_gpt()
    old = domain_adaptation.text_perplexity(tiny.model, tiny.tokenizer, corpus.shakespeare_text("validation")[:4000], max_tokens=512)
    new = domain_adaptation.text_perplexity(tiny.model, tiny.tokenizer, domain_adaptation.modern_text()[:4000], max_tokens=512)
    return "modern text" if new["perplexity"] > old["perplexity"] else "Shakespeare"


# ============================================================================ Week 2
@check("rouge.rouge_n_f1")
def _rouge_n(p, m):
    from lessons.evaluation import rouge
    return rouge.rouge_n(rouge.tokenize(p["candidate"]), rouge.tokenize(p["reference"]), int(p["n"])).fmeasure


@check("corpus.corpus_vs_mean_bleu")
def _corpus_bleu(p, m):
    from lessons.evaluation import bleu
    cands, refs = p["candidates"], p["references"]
    corpus = bleu.corpus_bleu_breakdown(cands, [[r] for r in refs]).score
    mean = sum(bleu.bleu_breakdown(c, [r]).score for c, r in zip(cands, refs)) / len(cands)
    return "corpus BLEU is higher" if corpus > mean + 1e-9 else (
        "corpus BLEU is lower" if corpus < mean - 1e-9 else "they are equal")


@check("summaries.messages")
def _summaries_messages(p, m):
    from lessons.evaluation import summaries
    shots = [{"dialogue": f"dialogue {i}", "summary": f"summary {i}"} for i in range(int(p["shots"]))]
    return len(summaries.summary_messages("the dialogue to summarize", shots))


@check("benchmarks.count_with")
def _benchmarks(p, m):
    from lessons.evaluation import benchmarks as bm
    return len(bm.filter_benchmarks(capabilities=[p["capability"]], min_tasks=int(p.get("min_tasks", 0))))


@check("lora.matrix")
def _lora_matrix(p, m):
    from lessons.finetune import lora
    return lora.matrix_count(int(p["d"]), int(p["k"]), int(p["r"]))["lora"]


@check("lora.tiny_gpt_count")
def _lora_tiny(p, m):
    from lessons.finetune import lora
    return lora.lora_parameter_count(m.tiny_gpt().model, int(p["r"]), list(p["targets"]))


@check("finetune.adam_memory_mb")
def _finetune_memory(p, m):
    from lessons.finetune import lora_training as ft
    return ft.training_memory_mb(int(p["total"]), int(p["trainable"]))["total"]


@check("prompt_tuning.count")
def _prompt_tuning(p, m):
    from lessons.finetune import prompt_tuning
    return prompt_tuning.peft_prompt_tuning_count(m.tiny_gpt().model, int(p["n_virtual"]))


# ============================================================================ Week 3
@check("preferences.pairs")
def _preferences_pairs(p, m):
    from lessons.rlhf import preferences
    return len(preferences.ranking_to_pairs("prompt", [f"c{i}" for i in range(int(p["k"]))]))


@check("reward_model.bt_loss")
def _bt_loss(p, m):
    import torch
    from lessons.rlhf import reward_model as rm
    return float(rm.bradley_terry_loss(torch.tensor([float(p["r_chosen"])]), torch.tensor([float(p["r_rejected"])])))


@check("ppo.clipped_objective")
def _ppo_clip(p, m):
    import torch
    from lessons.rlhf import ppo
    logp = torch.tensor([[math.log(float(p["ratio"]))]])
    loss, _ratio, _frac = ppo.clipped_policy_loss(logp, torch.zeros(1, 1), torch.tensor([[float(p["advantage"])]]),
                                                  torch.ones(1, 1), float(p["clip_eps"]))
    return -float(loss)


@check("reward_hacking.total_reward")
def _reward_total(p, m):
    import torch
    from lessons.rlhf import ppo
    kl = torch.tensor([list(map(float, p["kl_per_token"]))])
    r = ppo.per_token_rewards(torch.tensor([float(p["score"])]), kl, torch.ones_like(kl), float(p["beta"]))
    return float(r.sum())


@check("dpo.loss")
def _dpo_loss(p, m):
    import torch
    from lessons.rlhf import dpo
    t = lambda k: torch.tensor([float(p[k])])  # noqa: E731
    loss, _rw, _rl = dpo.dpo_loss(t("pi_w"), t("pi_l"), t("ref_w"), t("ref_l"), float(p["beta"]))
    return float(loss)


@check("constitutional.principles")
def _constitution(p, m):
    from lessons.rlhf import constitutional_ai as cai
    return len(cai.parse_constitution(p["text"]))


@check("distillation.p_top")
def _distillation(p, m):
    import torch
    from lessons.efficiency import distillation as kd
    return float(kd.softmax_t(torch.tensor([float(x) for x in p["logits"]]), float(p["T"]))[0])


@check("pruning.sparse_storage")
def _pruning(p, m):
    from lessons.efficiency import pruning
    s = pruning.storage_mb(int(p["n_weights"]), float(p["sparsity"]))
    return "sparse (CSR) is smaller" if s["sparse fp32 (CSR)"] < s["dense fp32"] else "dense is smaller or equal"


@check("rag.chunks")
def _rag_chunks(p, m):
    from lessons.retrieval import vector_store as vs
    return len(vs.chunk_words([f"w{i}" for i in range(int(p["n_words"]))], int(p["size"]), int(p["overlap"])))


@check("reasoning.program")
def _reasoning(p, m):
    from lessons.prompting import reasoning
    out = reasoning.run_program(p["program"])
    if out.error:
        raise ValueError(out.error)
    return out.answer


@check("react.tool")
def _react_tool(p, m):
    from lessons.prompting import react
    if p["tool"] == "calculator":
        out = react.calculator(p["expression"])   # the tool's Observation text, e.g. "3870"
        return float(out) if "." in out or "e" in out else int(out)
    return react.lookup(p["arg"])
