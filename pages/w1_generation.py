# lesson: Generation, token by token
# week: 1
# order: 22
# icon: 🔁
# topics: generation, autoregressive decoding, greedy decoding, repetition, generation config, max_new_tokens, repetition_penalty
# summary: Step through a real generation token by token; greedy versus sampling; copy the settings as transformers code.
"""Token-by-token generation: every step's distribution, the chosen token and its runners-up,
with generation settings named as GenerationConfig names them and a 'copy as code' snippet."""
import pandas as pd
import streamlit as st

from lessons import models
from lessons.decoding import generation
from ui import charts, common, decoding, inputs

PRESETS = {
    "Free story (sampling)": dict(prompt="Once upon a time, in a small village,", do_sample=True, temperature=0.8,
                                  top_k=50, top_p=0.95, max_new_tokens=24, repetition_penalty=1.0, seed=0),
    "Greedy falls into repetition": dict(prompt="I like cats. I like dogs. I like", do_sample=False, temperature=1.0,
                                         top_k=0, top_p=1.0, max_new_tokens=30, repetition_penalty=1.0, seed=0),
    "Greedy + repetition_penalty 1.3": dict(prompt="I like cats. I like dogs. I like", do_sample=False,
                                            temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=30,
                                            repetition_penalty=1.3, seed=0),
    "A fact (greedy)": dict(prompt="The capital of France is", do_sample=False, temperature=1.0, top_k=0,
                            top_p=1.0, max_new_tokens=12, repetition_penalty=1.0, seed=0),
}
FIELDS = ["prompt", "do_sample", "temperature", "top_k", "top_p", "max_new_tokens", "repetition_penalty", "seed"]


def apply_preset() -> None:
    """Copy the chosen preset into the widgets' state (no computation here)."""
    for f, v in PRESETS[st.session_state["generation.preset"]].items():
        st.session_state[f"generation.{f}"] = v


if "generation.prompt" not in st.session_state:
    st.session_state["generation.preset"] = next(iter(PRESETS))
    apply_preset()

st.title("🔁 Token-by-token generation")
st.markdown(
    "Generation is a loop. The model reads the prompt, scores every possible next token, one token is "
    "chosen (greedily or by sampling), appended, and the model runs again on the longer text — until "
    "`max_new_tokens` or the end-of-sequence token. This **inference** loop is all that happens when a "
    "chatbot answers. Here you step through a real run of the loop."
)
st.latex(r"x_{t} \sim \operatorname{softmax}\!\big(\operatorname{filter}(z_t / T)\big), \qquad "
         r"z_t = \mathrm{LM}(x_1,\dots,x_{t-1}) \qquad \text{(greedy: } x_t = \arg\max_i z_{t,i})")

lm = decoding.pick_model("generation")
if lm is None:
    common.stop_page()
st.selectbox("Preset", list(PRESETS), key="generation.preset", on_change=apply_preset)

st.subheader("Generation settings (GenerationConfig names)")
prompt = st.text_area("prompt", key="generation.prompt", height=80)
g1, g2, g3, g4 = st.columns(4)
do_sample = g1.toggle("do_sample", key="generation.do_sample", help="False = greedy decoding (argmax every step).")
temperature = g2.slider("temperature", 0.05, 2.5, step=0.05, key="generation.temperature", disabled=not do_sample)
top_k = g3.number_input("top_k (0 = off)", 0, 1000, step=1, key="generation.top_k", disabled=not do_sample)
top_p = g4.slider("top_p (1.0 = off)", 0.05, 1.0, step=0.01, key="generation.top_p", disabled=not do_sample)
h1, h2, h3 = st.columns(3)
max_new = h1.slider("max_new_tokens", 1, 60, step=1, key="generation.max_new_tokens")
rep = h2.slider("repetition_penalty (1.0 = off)", 1.0, 2.0, step=0.05, key="generation.repetition_penalty")
seed = h3.number_input("seed (torch.manual_seed)", 0, 2**31 - 1, step=1, key="generation.seed")

prompt = inputs.clean_text(prompt, what="prompt", max_chars=1000)
if prompt is None:
    common.stop_page()
settings = generation.GenSettings(do_sample=do_sample, temperature=float(temperature), top_k=int(top_k),
                                  top_p=float(top_p), max_new_tokens=int(max_new),
                                  repetition_penalty=float(rep), seed=int(seed))
try:
    tr = decoding.trace(decoding.model_key(lm), prompt, decoding.settings_tuple(settings), lm)
except ValueError as exc:
    st.warning(str(exc))
    common.stop_page()

st.subheader("Result")
result = charts.main_figure()   # the generated text, its numbers and its token strip
result.text(prompt + tr.text)
r1, r2, r3 = result.columns(3)
r1.metric("new tokens", len(tr.new_ids), help="Stopped at the end-of-sequence token." if tr.stopped_at_eos else None)
r2.metric("repeated 3-grams", f"{generation.repetition_score(tr.new_ids):.0%}",
          help="Share of 3-token sequences that already occurred earlier in the output.")
r3.metric("mean p of chosen tokens", f"{sum(s.prob for s in tr.steps) / max(len(tr.steps), 1):.2f}")
charts.show(decoding.token_strip(tr), key="generation.strip", where=result)

if tr.steps:
    st.subheader("Step through it")
    i = st.slider("step", 1, len(tr.steps), 1, key="generation.step") if len(tr.steps) > 1 else 1
    step = tr.steps[i - 1]
    so_far = lm.tokenizer.decode(tr.prompt_ids + tr.new_ids[: i - 1], skip_special_tokens=False)
    st.markdown("**The model reads** (prompt + tokens so far):")
    st.text(so_far[-600:])
    a, b = st.columns([3, 2])
    with a:
        charts.show(decoding.step_figure(step), key="generation.step_fig")
    with b:
        st.metric("chosen token", step.token, help="Spaces shown as ␣, newlines as ↵.")
        st.metric("its probability (after the settings)", f"{step.prob:.3f}")
        st.metric("tokens it was drawn from", f"{step.n_kept:,}")
        runners = [f"{t} ({p:.3f})" for t, p, tid in step.top if tid != step.token_id][:4]
        st.markdown("**Runners-up:** " + inputs.md_escape(", ".join(runners) or "none"))
    with st.expander("Every step as a table"):
        st.dataframe(pd.DataFrame([{
            "step": k + 1, "chosen": s.token, "p": round(s.prob, 4), "p raw": round(s.raw_prob, 4),
            "tokens left": s.n_kept, "entropy (bits)": round(s.entropy, 2),
            "top alternatives": ", ".join(f"{t} {p:.2f}" for t, p, _ in s.top[:4]),
        } for k, s in enumerate(tr.steps)]), hide_index=True, width="stretch")

st.subheader("Copy as code")
if lm.name == models.SMOLLM2_NAME:
    path, note = str(models.smollm2_cache_path()), (
        "The app's offline copy of SmolLM2-135M-Instruct (de-quantized from the GGUF it ships with).\n"
        "'HuggingFaceTB/SmolLM2-135M-Instruct' from the hub has the original weights: text may differ slightly.")
elif lm.name.startswith("tiny"):
    path, note = str(models.TINY_GPT_DIR), "GenAI Lab's tiny GPT, trained on Shakespeare."
else:
    path, note = lm.name, ""
st.code(generation.code_snippet(settings, prompt, path, note=note), language="python", wrap_lines=True)
st.caption("These lines reproduce the result above exactly (same tokens): a test runs the snippet "
           "and compares. The step-by-step loop on this page mirrors `generate()`'s own loop.")

st.header("Greedy versus sampling, side by side")
st.markdown("Same prompt, same seed, several temperatures. Greedy text is fluent but tends to loop; "
            "higher temperatures give variety, and eventually nonsense.")
temps = st.multiselect("temperatures (0 = greedy)", [0.0, 0.3, 0.7, 1.0, 1.5, 2.0], default=[0.0, 0.7, 1.5],
                       key="generation.temps", max_selections=4)
if st.button("Generate side by side", key="generation.compare") and temps:
    cols = st.columns(len(temps))
    for col, t in zip(cols, temps):
        s = generation.GenSettings(do_sample=t > 0, temperature=t if t > 0 else 1.0, top_k=0, top_p=1.0,
                                   max_new_tokens=int(max_new), repetition_penalty=float(rep), seed=int(seed))
        out = decoding.trace(decoding.model_key(lm), prompt, decoding.settings_tuple(s), lm)
        with col:
            st.markdown(f"**{'greedy' if t == 0 else f'T = {t}'}**")
            st.text(out.text)
            st.caption(f"repeated 3-grams: {generation.repetition_score(out.new_ids):.0%}")

common.try_this(
    "Preset *Greedy falls into repetition*: watch the output loop. Switch to the repetition_penalty preset.",
    "Keep the seed and change only the temperature: the first few tokens often agree, then the runs diverge.",
    "Turn do_sample on with top_k = 1: identical to greedy, whatever the seed.",
    "Step to a token with low probability: was it a sensible choice? How many tokens was it drawn from?",
    "Paste the code into a Python session with transformers installed: same text, token for token.",
)
