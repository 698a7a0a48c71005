# lesson: Chain-of-thought and PAL
# week: 3
# order: 42
# icon: 🧮
# topics: chain-of-thought, program-aided language models, PAL, safe evaluation, arithmetic reasoning
# summary: SmolLM2 answers word problems directly, step by step, and by writing a program that a safe evaluator runs.
"""Chain-of-thought vs direct answers vs PAL on arithmetic word problems, with the ast-based
safe evaluator (never eval/exec) that runs the model's program."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons.prompting import reasoning, reasoning_job
from lessons.prompting import recorded as prompting_recorded
from lessons.core import budget, safe_eval
from ui import charts, class_run_page, common, inputs, jobs, live, loaders, recorded

MODES = {"direct": "Direct answer", "cot": "Chain-of-thought", "pal": "PAL (program)"}
DEFAULTS = reasoning.PAGE_DEFAULTS

st.title("🧮 Chain-of-thought and PAL")
st.markdown(
    "Language models are bad at arithmetic done *in one go*: each token gets one forward pass. "
    "**Chain-of-thought** prompting (Wei et al. 2022) asks the model to write the intermediate "
    "steps first, so later tokens can read the earlier ones. **PAL**, program-aided language "
    "models (Gao et al. 2022), goes further: the model writes a small program and a Python "
    "interpreter does the arithmetic — the model only has to get the *structure* right."
)
st.latex(r"p(a \mid q) \;=\; \sum_{r} p(r \mid q)\, p(a \mid q, r)"
         r"\qquad r = \text{reasoning steps (CoT) or a program (PAL)}")
dev = common.device()
choice = loaders.instruct_choice("reasoning.model")
if choice == loaders.SMOL_CHOICE:
    st.info(
        "**Honest expectation.** Wei et al. found that chain-of-thought helps only in large models "
        "(around 100B parameters); smaller models write fluent but wrong steps. SmolLM2 has 135M. "
        "Everything below is what the model really produces — greedy, so you see the same text "
        "every time — not what the papers promise."
    )
else:
    st.info("**Qwen2.5-Coder-0.5B-Instruct** (0.5B parameters, instruction-tuned, trained on a lot of "
            "code) is still small by the papers' standards. What it really does on the app's problems, with "
            "room for its answers to finish, is measured in the box below; a single run on this page may differ.")
probs = reasoning.problems()
common.measured_box("reasoning", "the app's word problems")
by_id = {p["id"]: p for p in probs}

# --------------------------------------------------------------------------- one problem
st.header("1 · One problem, three prompts")
OWN = "✏️ Type my own word problem"
pick = st.selectbox("Word problem", [*by_id, OWN], format_func=lambda i: by_id[i]["question"] if i in by_id else i,
                    key="reasoning.problem")
if pick == OWN:
    o1, o2 = st.columns([3, 1])
    with o1:
        own_q = inputs.clean_text(st.text_area("Your word problem", "A class has 28 pupils. 4 are ill and the rest "
                                               "sit in groups of 6. How many groups are there?", key="reasoning.own",
                                               height=90),
                                  max_chars=reasoning.MAX_OWN_CHARS, what="word problem")
    own_a = o2.text_input("Its answer (optional)", "4", key="reasoning.own_answer",
                          help="A number, so the page can say whether the model got it right.")
    if own_q is None:
        common.stop_page()
    problem = reasoning.own_problem(own_q, own_a)
    pid = f"own:{problem['question']}:{problem['answer']}"
else:
    pid, problem = pick, by_id[pick]
if problem["answer"] is None:
    st.markdown("**Correct answer:** not given, so the page shows what the model says without a verdict.")
else:
    st.markdown(f"**Correct answer:** {problem['answer']:g}")
cot_tokens = st.slider("Max new tokens (chain-of-thought and PAL)", 8, 256, DEFAULTS["cot_tokens"], step=8,
                       key="reasoning.tokens",
                       help=f"Direct answers get at most {reasoning.MAX_TOKENS['direct']} tokens. Steps need room: "
                            "too few and the answer is cut off.")


def generation_job(key: str, kind: str, settings: dict, steps: int, page_settings: dict, use_record: bool,
                   shareable: bool = True) -> None:
    """A long generation of this page as a class run (lessons/prompting/reasoning_job.py): in a worker
    process; the same settings are one run for the class, and a finished one shows at once."""
    llm = common.model_or_stop(loaders.instruct_model, choice, dev)
    spec = reasoning_job.spec(settings, reasoning_job.ATTEMPT_S * steps,
                              loaders.instruct_fingerprints(choice, str(dev), reasoning_job.THREADS),
                              jobs.budget().threads, str(dev))
    class_run_page.train_together(key, kind, spec, shareable=shareable, max_seconds=reasoning_job.ATTEMPT_S * steps,
                                  steps=steps, settings={**page_settings, "model": llm.name}, use_record=use_record,
                                  rows_of=lambda result: [])


def finished_run(key: str, settings: dict, label: str) -> dict | None:
    """Follow the section's class run while it runs; then its result when it has these settings."""
    job = class_run_page.generation_result(key, label)
    lv = live.state(key)
    if job is None or {k: v for k, v in lv.settings.items() if k != "model"} != settings:
        return None
    class_run_page.class_run_note(key, st.empty())      # a run shared with others, or its record
    return {**job, "model": lv.settings["model"]}


def smollm2_lab(device: str) -> prompting_recorded.Lab:
    """The shared SmolLM2 whose fingerprint keys the recorded scores (lessons/prompting/recorded.py)."""
    return prompting_recorded.Lab(loaders.smollm2(device))


def recorded_scores(device: str, n_problems: int, modes: tuple, tokens: int):
    """The recorded SmolLM2 scores with these settings, or None: only the page's defaults are recorded."""
    return recorded.find(prompting_recorded, prompting_recorded.REASONING_KIND,
                         prompting_recorded.reasoning_settings(n_problems, modes, tokens), device, smollm2_lab)


def recorded_note(rec, what: str, button: str) -> None:
    recorded.note(rec, f"SmolLM2 ({what}, the page's default settings; the CPU time covers all "
                       f"{len(rec.result['attempts'])} generations). Greedy decoding writes the same text every "
                       f"time: press **{button}** to generate it live.")


smol = choice == loaders.SMOL_CHOICE
default_rec = (recorded_scores(dev, DEFAULTS["n_problems"], tuple(DEFAULTS["modes"]), DEFAULTS["cot_tokens"])
               if smol else None)


# The three generations run in a worker process (kind reasoning-three): one run per problem and
# settings for the class, shown again at once; a learner's own problem is theirs alone.
one_settings = {"choice": choice, "pid": pid, "cot_tokens": cot_tokens}
class_run_page.presses("reasoning.three", st.button("Run the three prompts on this problem", key="reasoning.run",
                                                    type="primary"),
                       lambda use_record: generation_job(
                           "reasoning.three", reasoning_job.THREE,
                           reasoning_job.three_settings(loaders.instruct_name(choice), problem, MODES, cot_tokens),
                           len(MODES), one_settings, use_record, shareable=pick != OWN), see_it_end=False)
three = finished_run("reasoning.three", one_settings, "prompt")
one = {"res": three["res"]} if three and three["stopped"] == "steps" else None
if one is None and default_rec is not None and cot_tokens == DEFAULTS["cot_tokens"]:
    res = {a["mode"]: a for a in default_rec.result["attempts"] if a["problem"] == pid}
    if set(res) == set(MODES):
        recorded_note(default_rec, "this problem", "Run the three prompts on this problem")
        one = {"res": res}
if one:
    cols = st.columns(3)
    for col, mode in zip(cols, MODES):
        r = one["res"][mode]
        with col:
            st.subheader(MODES[mode])
            st.text(reasoning.shown_text(r) or "(empty)")
            val = "nothing" if r["value"] is None else f"{r['value']:g}"
            verdict = "no answer given to compare" if problem["answer"] is None else \
                "✅ correct" if r["correct"] else "❌ wrong"
            st.markdown(f"Read as **{val}** → {verdict}")
            if mode == "pal":
                if r["error"]:
                    st.warning(f"Safe evaluator refused or failed: {r['error']}")
                else:
                    st.caption("The safe evaluator ran the program above.")
            ended = "ended by itself" if reasoning.finished(r) else "**cut off by its budget**: raise the token slider"
            st.caption(f"{r['n_new_tokens']} new tokens in {r['seconds']:.1f} s (stopped by {r['stopped_by']}; {ended})")
            with st.expander("Raw prompt"):
                st.code(r["prompt"], language=None)
else:
    st.caption("Press the button: three short greedy generations (a few seconds each on a laptop CPU).")

if problem["program"]:
    st.markdown("**PAL with a correct program.** This is the program a good model would write for this "
                "problem, run through the same safe evaluator, line by line:")
    ref = reasoning.template_pal(problem)
    c1, c2 = st.columns(2)
    c1.code(problem["program"], language="python")
    c2.dataframe(pd.DataFrame([{"line": src, "value": reasoning.fmt(v)} for src, v in ref.trace]), hide_index=True,
                 width="stretch")
    c2.markdown(f"`answer` = **{ref.answer:g}** {'✅' if reasoning.is_correct(ref.answer, problem['answer']) else '❌'}")

# --------------------------------------------------------------------------- safe evaluator
st.header("2 · The safe evaluator")
st.markdown(
    "Model output is untrusted text: running it with `eval` or `exec` would let a prompt "
    "injection delete files. Our evaluator parses the program with Python's `ast` module and "
    "walks the tree itself. Allowed: numbers, `+ - * / // % **` (small exponents), parentheses, "
    "variables assigned earlier, `abs`, `min`, `max`, `round`, and functions without arguments "
    "built from such lines (small models like to write `def solution(): ... return x`). "
    "Everything else is refused."
)
code = st.text_area("Program to evaluate", "price = 250\nbikes = 6 + 2 * 6\nanswer = price * bikes",
                    key="reasoning.code", height=120)
src = inputs.clean_text(code, max_chars=safe_eval.MAX_SOURCE_CHARS, what="program")
if src is not None:
    run = safe_eval.run_program(src)
    if run.error:
        st.error(f"Refused: {run.error}")
    else:
        st.success(f"answer = {run.answer:g}")
    if run.trace:
        st.dataframe(pd.DataFrame([{"line": s, "value": reasoning.fmt(v)} for s, v in run.trace]), hide_index=True,
                     width="stretch")

# --------------------------------------------------------------------------- all problems
st.header("3 · Score the three prompts on every problem")
a1, _ = st.columns(2)
n_probs = a1.slider("Problems", 1, len(probs), min(DEFAULTS["n_problems"], len(probs)), key="reasoning.n",
                    help=f"{len(probs)} problems in all; each costs up to three generations.")
modes = st.multiselect("Prompts", list(MODES), default=list(DEFAULTS["modes"]), format_func=MODES.get,  # own row:
                       key="reasoning.modes")                                                   # chips fit
score_settings = {"choice": choice, "n": n_probs, "modes": list(modes), "cot_tokens": cot_tokens}
score_clicked = st.button("Score them", key="reasoning.run_all")


class_run_page.presses("reasoning.score", score_clicked and bool(modes), lambda use_record: generation_job(
    "reasoning.score", reasoning_job.SCORE, reasoning_job.score_settings(loaders.instruct_name(choice), n_probs, modes,
                                                                         cot_tokens),
    n_probs * len(modes), score_settings, use_record), see_it_end=False)
scored = finished_run("reasoning.score", score_settings, "generation")
attempts, model_name = (scored["attempts"], scored["model"]) if scored and scored["attempts"] else (None, None)
with charts.main_figure():
    if attempts is None and smol and modes:
        rec = recorded_scores(dev, n_probs, tuple(modes), cot_tokens)
        if rec is not None:
            recorded_note(rec, f"{n_probs} problems × {len(modes)} prompts", "Score them")
            attempts, model_name = rec.result["attempts"], "SmolLM2-135M-Instruct"
    if attempts:
        answer = {p["id"]: p["answer"] for p in probs}
        df = pd.DataFrame([{"problem": a["problem"], "prompt": MODES[a["mode"]], "correct answer": answer[a["problem"]],
                            "model's number": a["value"], "correct": a["correct"],
                            "ended by itself": reasoning.finished(a), "completion": reasoning.shown_text(a)[:160]}
                           for a in attempts])
        acc = df.groupby("prompt", sort=False)["correct"].agg(["sum", "count"]).reset_index()
        fig = go.Figure(go.Bar(x=acc["prompt"], y=acc["sum"] / acc["count"], marker_color=charts.RIGHT,
                               text=[f"{s}/{c}" for s, c in zip(acc["sum"], acc["count"])], textposition="outside"))
        fig.update_layout(height=320, yaxis_range=[0, 1.15], yaxis_title="accuracy", xaxis_title="prompting mode",
                          margin=dict(t=40, b=10), title=f"Accuracy of {model_name or 'the model'} by prompting mode")
        charts.show(fig, key="reasoning.acc", fit=True)
        st.markdown("**Result:** " + ", ".join(f"{p}: {s}/{c} correct"
                                               for p, s, c in zip(acc["prompt"], acc["sum"], acc["count"])) + ".")
        st.dataframe(df, hide_index=True, width="stretch")
    else:
        st.caption(f"Press *Score them* ({n_probs * len(modes)} short generations; the same settings again, yours or "
                   "another learner's, show at once).")
if attempts:     # under the main figure (on a projector the figure keeps the screen): each prompt's cut-off share
    cut = {m: reasoning.budget_of([a for a in attempts if a["mode"] == m]) for m in modes}
    st.markdown("**Cut off by the budget:** " + "; ".join(f"{MODES[m]}: {budget.text(s)}" for m, s in cut.items()
                                                           if s["n"]) + ".")
    if not all(s["conclusive"] for s in cut.values()):
        st.warning("Some answers ran out of tokens before their final line: their scores measure the token "
                   "budget, not the model. Raise *Max new tokens* before comparing the prompts.")

# --------------------------------------------------------------------------- self-consistency
st.header("4 · Self-consistency: several paths, one vote")
st.markdown(
    "Greedy decoding follows **one** reasoning path; one wrong step and the answer is wrong. "
    "**Self-consistency** (Wang et al. 2022) samples *k* chain-of-thought paths at a temperature above 0, "
    "reads each path's final number and takes the **majority vote**: different paths make different "
    "mistakes, and the right answer is often the one they agree on most."
)
SC = reasoning.SC_DEFAULTS
s1, s2, s3 = st.columns(3)
sc_k = s1.slider("Paths k", 3, 9, SC["k"], step=2, key="reasoning.sc_k", help="Odd k: fewer ties.")
sc_t = s2.slider("Temperature T", 0.1, 1.5, SC["temperature"], step=0.1, key="reasoning.sc_temp",
                 help="T near 0: every path is the greedy one. Higher: more varied paths, and more mistakes.")
sc_seed = int(s3.number_input("Seed", 0, 10_000, SC["seed"], key="reasoning.sc_seed",
                              help="Path i is sampled from seed + i: the same seed gives the same paths."))
sc_settings = {"pid": pid, "choice": choice, "k": sc_k, "T": sc_t, "seed": sc_seed, "tokens": cot_tokens}
st.caption(f"On the problem chosen in section 1; each path may write up to {cot_tokens} new tokens "
           "(the slider of section 1).")
sc_clicked = st.button(f"Sample {sc_k} paths and vote", key="reasoning.sc_run")
class_run_page.presses("reasoning.sc", sc_clicked, lambda use_record: generation_job(
    "reasoning.sc", reasoning_job.SELF_CONSISTENCY,
    reasoning_job.sc_settings(loaders.instruct_name(choice), problem, sc_k, sc_t, sc_seed, cot_tokens),
    sc_k, sc_settings, use_record, shareable=pick != OWN), see_it_end=False)      # a learner's own problem: theirs
sc_run = finished_run("reasoning.sc", sc_settings, "path")
if sc_run and sc_run["res"] is not None:
    res = sc_run["res"]
    values = sorted(res["votes"], key=lambda v: -res["votes"][v])
    right = None if problem["answer"] is None else reasoning.fmt(problem["answer"])
    fig = go.Figure(go.Bar(x=[f"{v} (correct)" if v == right else v for v in values], y=[res["votes"][v] for v in values], text=[res["votes"][v] for v in values],
                           textposition="outside",
                           marker_color=[charts.RIGHT if v == right else charts.WRONG for v in values]))
    fig.update_layout(height=280, xaxis_type="category", xaxis_title="final number of a path",
                      yaxis_title="paths", yaxis_range=[0, sc_k + 1], margin=dict(t=40, b=10),
                      title=f"{sc_k} sampled paths of {sc_run['model']}, T = {sc_t:g}")
    charts.show(fig, key="reasoning.sc_votes")
    vote = "no number" if res["value"] is None else f"**{reasoning.fmt(res['value'])}**"
    n_right = sum(p["correct"] for p in res["paths"])
    if right is None:
        st.markdown(f"**Vote:** {vote} (no answer given to compare). {budget.text(res['budget'])}.")
    else:
        st.markdown(f"**Vote:** {vote} → {'✅ correct' if res['correct'] else '❌ wrong'} "
                    f"(correct answer {right}; {n_right} of {sc_k} paths were right on their own). "
                    f"{budget.text(res['budget'])}.")
    st.dataframe(pd.DataFrame([{"path": i + 1, "number": None if p["value"] is None else reasoning.fmt(p["value"]),
                                "correct": p["correct"], "ended by itself": reasoning.finished(p),
                                "text": reasoning.shown_text(p)} for i, p in enumerate(res["paths"])]),
                 hide_index=True, width="stretch")
else:
    st.caption(f"Press the button: {sc_k} sampled generations of the chosen model. The measured box at the top "
               "compares self-consistency with greedy chain-of-thought on every problem.")

common.try_this(
    "In section 2, paste `__import__('os').system('ls')` or `open('/etc/passwd').read()`: the "
    "evaluator refuses it before anything runs. Why would plain `eval` be dangerous here?",
    "Try `2 ** 10 ** 10` in section 2: without the exponent limit this would freeze the server.",
    "Read the chain-of-thought completions: are the steps right and only the final number wrong, "
    "or is the reasoning itself broken? Which one does PAL fix?",
    "Lower *Max new tokens* to 32: how often is the answer cut off before "
    "'The answer is'?",
)
