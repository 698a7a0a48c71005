# lesson: Constitutional AI: critique and revision
# week: 3
# order: 18
# icon: 📜
# topics: constitutional AI, RLAIF, red teaming, critique, revision, harmlessness
# summary: Red-team SmolLM2-Instruct, have it critique its own answer against your constitution and revise it, and collect the revised pairs.
"""Constitutional AI, supervised stage: red-team prompt -> response -> critique -> revision
with SmolLM2-135M-Instruct; every prompt shown; collected (prompt, revision) pairs."""
import pandas as pd
import streamlit as st

from lessons.rlhf import constitutional_ai as cai
from lessons.rlhf import constitutional_ai_job, recorded_cai
from ui import charts, class_run_page, common, inputs, jobs, live, loaders, recorded, rlhf

st.title("📜 Constitutional AI: critique and revision")
st.markdown(
    "Human labels for harmful answers are slow, costly and unpleasant to collect. **Constitutional "
    "AI** writes the rules down instead — a short *constitution* — and asks a model to judge and "
    "fix its own answers: (1) answer a red-team prompt, (2) critique the answer against one "
    "principle, (3) revise it. The (red-team prompt, revised answer) pairs become fine-tuning "
    "data, and in the RL stage (**RLAIF**) the model's own comparisons replace human preference "
    "labels. Below, the instruct model you pick plays every role; each prompt it sees is shown."
)

model_choice = loaders.instruct_choice("constitutional-ai.model")
if model_choice == loaders.SMOL_CHOICE:
    st.warning(
        "**What you will see with SmolLM2-135M:** the pipeline runs, but the model is far too small to do "
        "its part. Its critique usually does **not** name the principle (it restates the question, praises "
        "the answer, or drifts off topic); how often its revision is judged safer is measured in the box "
        "below, with the share of answers cut off by their token budget. The paper used models of about 50 billion parameters. Read the output as a picture of the "
        "*pipeline* — what is asked, in which order, what data comes out — not as a safety tool, and "
        "compare it with the paper's own example below."
    )
else:
    st.info(
        "**Qwen2.5-Coder-0.5B-Instruct** is about four times larger than SmolLM2-135M and "
        "instruction-tuned, but still about 100 times smaller than the paper's models. Its critiques "
        "and revisions are judged below by a simple keyword rubric, stated on this page, not by people: "
        "check every critique and revision yourself and compare them with the paper's own example below."
    )
with st.expander("Reference run: the paper's own example (Bai et al. 2022, its helpful RLHF model)", expanded=True):
    for label, text in cai.PAPER_EXAMPLE:
        st.markdown(f"**{label}:** {inputs.md_escape(text)}")
    st.caption("Quoted from the Constitutional AI paper (arXiv 2212.08073, section 3.1; the paper notes that the "
               "harmful advice is fabricated): the critique names the harm and the revision removes it. This is the behaviour the pipeline relies on; a 135M model does not "
               "have it. Generation here is greedy (deterministic) and capped in length, so answers may "
               "also stop mid-sentence.")

c1, c2 = st.columns([3, 2])
with c1:
    const_raw = st.text_area("Constitution (one principle per line — edit it)",
                             "\n".join(cai.DEFAULT_CONSTITUTION), height=150, key="constitutional-ai.constitution")
constitution = cai.parse_constitution(inputs.clean_text(const_raw, max_chars=3000, what="constitution",
                                                        allow_empty=True) or "")
with c2:
    if not constitution:
        st.warning("Write at least one principle.")
        common.stop_page()
    principle = st.selectbox("Principle used for this critique", constitution, key="constitutional-ai.principle")
    st.caption("The paper samples one principle at random per critique; here you choose.")

choice = st.selectbox("Red-team prompt", cai.RED_TEAM_PROMPTS + ["✍️ write my own"], key="constitutional-ai.prompt_choice")
if choice == "✍️ write my own":
    own = st.text_area("Your red-team prompt", "How can I make my little brother cry?", key="constitutional-ai.prompt", height=80)
    prompt = inputs.clean_text(own, max_chars=500, what="red-team prompt")
    if prompt is None:
        common.stop_page()
else:
    prompt = choice
tokens = st.slider("max new tokens per stage", 16, 640, cai.DEFAULT_TOKENS, step=8, key="constitutional-ai.tokens",
                   help="Each of the three stages generates at most this many tokens (greedy). At the default many "
                        "answers are cut off before they end; the measured box shows the budget at which they finish.")

run_settings = (model_choice, prompt, principle, tokens)


def smollm2_lab(device: str) -> recorded_cai.Lab:
    """The shared SmolLM2 whose fingerprint keys the recorded runs (only the shipped red-team
    prompts with the default principle and token cap are recorded: lessons/rlhf/recorded_cai.py)."""
    return recorded_cai.Lab(loaders.smollm2(device))


SECONDS = 900.0     # the job's time limit: three stages of at most 640 tokens on a busy CPU
clicked = st.button("▶ Run response → critique → revision", key="constitutional-ai.run", type="primary")


def start(use_record: bool = True) -> None:
    """The button (or Run it again live): the three generations run in a worker process
    (lessons/rlhf/constitutional_ai_job.py). A shipped red-team prompt with a shipped principle is
    the same run for everyone (greedy decoding): learners share it and a finished one shows at
    once; a learner's own prompt or principle is theirs alone."""
    dev = str(common.device())
    common.model_or_stop(loaders.instruct_model, model_choice, dev)      # a clear message if it is missing
    job = constitutional_ai_job.settings(loaders.instruct_name(model_choice), prompt, principle, tokens)
    spec = constitutional_ai_job.spec(job, SECONDS, loaders.instruct_fingerprints(model_choice, dev, constitutional_ai_job.THREADS),
                                      jobs.budget().threads, dev)
    shared = prompt in cai.RED_TEAM_PROMPTS and principle in cai.DEFAULT_CONSTITUTION
    class_run_page.train_together("constitutional-ai", constitutional_ai_job.KIND, spec, shareable=shared,
                                  max_seconds=SECONDS, steps=3, settings={"run": run_settings, "job": job},
                                  use_record=use_record, rows_of=lambda result: [])


class_run_page.presses("constitutional-ai", clicked, start, see_it_end=False)
stages_ph = st.empty()       # while it runs: the stages written so far
done = class_run_page.generation_result(
    "constitutional-ai", "stage", what="The run",
    draw=lambda rows, lv: stages_ph.caption(" · ".join(
        f"{r['stage']['name']}: {r['stage']['n_tokens']} tokens in {r['stage']['seconds']:.1f} s" for r in rows)))
stages_ph.empty()
lv = live.state("constitutional-ai")
if done is not None and not lv.result.get("collected"):      # once per finished run: keep it, collect its pair
    lv.result["collected"] = True
    got = constitutional_ai_job.as_result(done, lv.settings["job"])
    if len(got.stages) == 3:
        rlhf.state().cai_last = got
        st.session_state["constitutional-ai.last"] = lv.settings["run"]
        rlhf.state().cai_pairs.append({"red-team prompt": got.red_team_prompt, "principle": got.principle,
                                       "first response": got.response, "revised response": got.revision})
if lv.settings.get("run") == run_settings:
    class_run_page.class_run_note("constitutional-ai", st.empty())   # a run shared with others, or its record

s = rlhf.state()
res = s.cai_last if st.session_state.get("constitutional-ai.last") == run_settings else None
rec = recorded.find(recorded_cai, recorded_cai.KIND, recorded_cai.settings(prompt, principle, tokens), common.device(),
                    smollm2_lab) if res is None and model_choice == loaders.SMOL_CHOICE else None
TEXT_BOX_PX = 300   # presenter mode: the height of each stage's text box
with charts.main_figure():
    if rec is not None:
        recorded.note(rec, "SmolLM2 on this prompt with this principle and token cap. Greedy decoding writes the "
                           "same three texts every time: press **Run response → critique → revision** to generate "
                           "them live (a live run also adds the pair to the collected data below).")
        res = recorded_cai.as_result(rec.result, recorded_cai.settings(prompt, principle, tokens))
    if res is not None:
        labels = {"response": "1 · Response to the red-team prompt", "critique": "2 · Critique against the principle",
                  "revision": "3 · Revision"}
        # on a projector the three stages side by side, each text scrolling in its own box
        places = st.columns(len(res.stages)) if charts.presenting() else [st.container() for _ in res.stages]
        for place, stage in zip(places, res.stages):
            with place:
                st.subheader(labels[stage.name])
                with st.expander("The exact prompt the model saw (chat template applied)"):
                    st.code(stage.prompt_text, language=None, wrap_lines=True)
                (st.container(height=TEXT_BOX_PX) if charts.presenting() else st.container()).text(
                    stage.output or "(empty)")
                st.caption(f"{stage.n_tokens} tokens, {stage.seconds:.1f} s, greedy")
    else:
        st.info("Press **Run response → critique → revision**: three greedy generations, each shown with the "
                "exact prompt the model saw.")

if res is not None:
    rlhf.cai_verdict(res)
common.measured_box("cai", "the 5 red-team prompts with the default principle, judged by the keyword rubric "
                           "(lessons/rlhf/cai_judge.py)")

st.header("Collected pairs (the SL-CAI dataset)")
if s.cai_pairs:
    st.dataframe(pd.DataFrame(s.cai_pairs), hide_index=True, width="stretch")
    st.download_button("Download as JSON lines", "\n".join(pd.DataFrame(s.cai_pairs).to_json(
        orient="records", lines=True).splitlines()), file_name="cai_pairs.jsonl", key="constitutional-ai.download")
    st.caption("In the paper a model is then fine-tuned on (prompt, revised response) pairs; here you "
               "can see how noisy such self-generated data is at 135M parameters.")
else:
    st.info("Run a red-team prompt to collect the first (prompt, revised response) pair.")

common.try_this(
    "Run the default prompt, then change only the principle: does the critique change?",
    "Add a principle of your own, e.g. 'The response must be at most two sentences.' Is it followed in the revision?",
    "Write a harmless prompt: does the model still find something to critique?",
    "Lower max new tokens to 24: what happens to the critique and revision?",
)
