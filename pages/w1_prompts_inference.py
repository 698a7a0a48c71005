# lesson: Prompts, completions and inference
# week: 1
# order: 20
# icon: 💬
# topics: prompts, completions, inference, context window, tokens, chat template
# summary: The course's vocabulary on a live example: prompt, tokens, context window, completion, inference.
"""The vocabulary of the course -- prompt, context window, completion, inference -- shown on a
live run of SmolLM2 with token counts and the chat template applied raw."""
import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons.prompting import in_context_learning
from lessons.decoding import generation
from ui import charts, common, decoding, inputs

st.title("💬 Prompts, completions and inference")
st.markdown(
    "- **Prompt**: the text you give the model.\n"
    "- **Tokens**: the pieces the model actually reads; every count below is in tokens, not words.\n"
    "- **Context window**: the most tokens the model can attend to at once, prompt *and* output "
    "together (8,192 for SmolLM2-135M-Instruct).\n"
    "- **Inference**: running the trained model, unchanged, to produce text.\n"
    "- **Completion**: the text it produces, one token at a time, appended to the prompt."
)
st.latex(r"\underbrace{x_1 \dots x_n}_{\text{prompt}}\ \underbrace{x_{n+1} \dots x_{n+m}}_{\text{completion}}, "
         r"\qquad n + m \le \text{context window}, \qquad x_{t} = \arg\max_i P_\theta(i \mid x_{<t})")

lm = decoding.pick_model("prompts-inference")
if lm is None:
    common.stop_page()
c1, c2 = st.columns([3, 1])
with c1:
    text = st.text_area("Prompt", value="What is the capital of France?", key="prompts-inference.prompt", height=90)
with c2:
    has_chat = bool(getattr(lm.tokenizer, "chat_template", None))
    use_chat = st.toggle("Apply the chat template", value=has_chat, key="prompts-inference.chat", disabled=not has_chat,
                         help="Instruction-tuned models were trained on conversations in this format.") and has_chat
    max_new = st.slider("max_new_tokens", 1, 80, 30, key="prompts-inference.max_new")
text = inputs.clean_text(text, what="prompt")
if text is None:
    common.stop_page()
prompt = (lm.tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                           add_generation_prompt=True) if use_chat else text)

ids, pieces = decoding.tokens_table(lm.tokenizer, prompt)
budget = in_context_learning.token_budget(lm.tokenizer, lm.model, prompt, max_new)
m1, m2, m3, m4 = st.columns(4)
m1.metric("characters", f"{len(prompt):,}")
m2.metric("prompt tokens", f"{len(ids):,}")
m3.metric("max_new_tokens", f"{max_new:,}")
m4.metric("context window", f"{budget.context_window:,}")
fig = go.Figure()
fig.add_bar(y=["tokens"], x=[budget.prompt_tokens], orientation="h", name="prompt", marker_color="#2E86DE")
fig.add_bar(y=["tokens"], x=[budget.max_new_tokens], orientation="h", name="room for the completion",
            marker_color="#FDCB6E")
fig.add_bar(y=["tokens"], x=[max(budget.context_window - budget.total, 0)], orientation="h", name="unused",
            marker_color="#DFE6E9")
fig.update_layout(barmode="stack", height=150, margin=dict(l=10, r=10, t=30, b=10),
                  legend=dict(orientation="h", y=1.5), xaxis_title="tokens of the context window")
charts.show(fig, key="prompts-inference.budget", main=True)
if budget.prompt_tokens >= budget.context_window:
    st.error(f"The prompt alone is {budget.prompt_tokens:,} tokens, but {lm.name} can read at most "
             f"{budget.context_window:,}: there is no room left for a single new token, so nothing can be "
             "generated. Shorten the prompt (or pick a model with a longer context window).")
elif not budget.fits:
    st.warning(f"Prompt + max_new_tokens exceed the context window: at most "
               f"{budget.context_window - budget.prompt_tokens:,} new tokens fit, so the generation will be cut short.")

if use_chat:
    st.markdown("**What the model really reads** — the chat template applied, special tokens included:")
    st.code(prompt, language=None)
st.markdown("**The prompt as tokens** (␣ is a space, ↵ a newline):")
st.dataframe(pd.DataFrame({"token": pieces, "id": [str(i) for i in ids]}).T, width="stretch")

st.subheader("Inference")
if st.button("Run inference (greedy)", key="prompts-inference.run", type="primary"):
    t0 = time.perf_counter()
    tr = decoding.trace(decoding.model_key(lm), prompt,
                  decoding.settings_tuple(generation.GenSettings(do_sample=False, max_new_tokens=max_new)), lm)
    st.session_state["prompts-inference.result"] = (prompt, max_new, decoding.model_key(lm), tr, time.perf_counter() - t0)
res = st.session_state.get("prompts-inference.result")
if res and res[:3] == (prompt, max_new, decoding.model_key(lm)):
    _, _, _, tr, secs = res
    st.markdown("**Completion:**")
    st.text(tr.text)
    r1, r2, r3 = st.columns(3)
    r1.metric("completion tokens", len(tr.new_ids))
    r2.metric("prompt + completion", f"{len(tr.prompt_ids) + len(tr.new_ids):,} tokens")
    r3.metric("stopped by", tr.stop_reason,
              help="EOS token: the model produced its end-of-sequence token, i.e. it chose to stop. "
                   "max_new_tokens: your limit. context window: prompt + completion filled the model's window.")
    st.caption(f"Computed in {secs:.2f} s on {lm.device} (instant when the same run was cached). Each new token "
               "needs one more pass through all layers of the model.")
else:
    st.info("Press *Run inference* to let the model complete the prompt (greedy decoding: the most likely "
            "token at every step). The *Generation, token by token* lesson opens up this loop.")

common.try_this(
    "Turn the chat template off and ask the same question: the instruction-tuned model behaves differently "
    "when it does not see the conversation format it was trained on.",
    "Type the same sentence in another language, or with emoji: how many tokens does it cost now?",
    "Set max_new_tokens to 3: the completion stops mid-sentence. The model does not plan ahead.",
    "Paste a long text: watch the blue bar grow towards the context window.",
)
