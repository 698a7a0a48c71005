"""Benchmarks for language models: what GLUE, SuperGLUE, MMLU, BIG-bench and HELM measure.

Facts are taken from the papers that introduced each benchmark:
* GLUE -- Wang et al. (2018), "GLUE: A Multi-Task Benchmark and Analysis Platform for NLU".
* SuperGLUE -- Wang et al. (2019), "SuperGLUE: A Stickier Benchmark for General-Purpose
  Language Understanding Systems".
* MMLU -- Hendrycks et al. (2021), "Measuring Massive Multitask Language Understanding".
* BIG-bench -- Srivastava et al. (2022), "Beyond the Imitation Game"; BIG-Bench Hard --
  Suzgun et al. (2022).
* HELM -- Liang et al. (2022), "Holistic Evaluation of Language Models".
Only facts we are sure of are stated; this module is plain data plus two small helpers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# HELM's seven metric categories, in the paper's order.
HELM_METRICS: dict[str, str] = {
    "accuracy": "Is the output correct for the task? (exact match, F1, ROUGE for summaries, ...)",
    "calibration": "Do the model's confidences match how often it is right? A 70%-confident answer "
                   "should be right about 70% of the time (expected calibration error).",
    "robustness": "Does accuracy survive small, meaning-preserving changes to the input "
                  "(typos, capitalisation, contractions)? HELM reports the worst case.",
    "fairness": "Does accuracy stay the same when the input is changed to refer to other social "
                "groups or dialects (e.g. swapped names, pronouns, dialect)?",
    "bias": "Does generated text over- or under-represent demographic groups, or tie them to "
            "stereotyped words?",
    "toxicity": "How often is generated text toxic (flagged by a toxicity classifier)?",
    "efficiency": "What does it cost: training compute/energy/CO2 and inference time per request?",
}
DIMENSIONS = list(HELM_METRICS)


@dataclass(frozen=True)
class Benchmark:
    name: str
    year: int
    paper: str
    measures: str
    size: str                # in the benchmark's own units
    n_tasks: int             # tasks / subjects / scenarios, for the size chart
    task_unit: str
    fmt: str                 # task format
    scoring: str
    capabilities: tuple[str, ...]
    coverage: dict = field(default_factory=dict)   # HELM dimension -> 0 (no), 0.5 (partly), 1 (headline)
    coverage_note: str = ""
    status: str = ""
    examples: str = ""


BENCHMARKS: list[Benchmark] = [
    Benchmark(
        "GLUE", 2018, "Wang et al., 2018",
        "Natural-language understanding of single sentences and sentence pairs: acceptability, "
        "sentiment, paraphrase, similarity, and inference.",
        "9 tasks + a diagnostic set", 9, "tasks", "classification / regression on short texts",
        "Average of the task scores (accuracy, F1, Matthews correlation for CoLA, Pearson/Spearman "
        "correlation for STS-B).",
        ("language understanding", "classification"),
        {"accuracy": 1}, "Accuracy-style task scores only; the diagnostic set probes linguistic phenomena.",
        "Models passed the paper's human baseline within about a year, which motivated SuperGLUE.",
        "CoLA, SST-2, MRPC, STS-B, QQP, MNLI, QNLI, RTE, WNLI",
    ),
    Benchmark(
        "SuperGLUE", 2019, "Wang et al., 2019",
        "Harder language understanding than GLUE: reading comprehension, commonsense and causal "
        "reasoning, word sense, coreference.",
        "8 tasks + 2 diagnostic sets", 8, "tasks", "QA, classification, coreference",
        "Average of task scores; human baseline 89.8.",
        ("language understanding", "reasoning", "question answering"),
        {"accuracy": 1, "bias": 0.5},
        "Accuracy-style scores; the Winogender diagnostic (AX-g) probes gender bias in coreference.",
        "Top systems passed the human baseline too: a benchmark saturates as models improve.",
        "BoolQ, CB, COPA, MultiRC, ReCoRD, RTE, WiC, WSC",
    ),
    Benchmark(
        "MMLU", 2021, "Hendrycks et al., 2021",
        "Breadth of world knowledge and problem solving across school and professional subjects, "
        "asked zero- or few-shot (pretrained knowledge, no fine-tuning on the task).",
        "57 subjects, multiple choice", 57, "subjects", "4-option multiple choice, usually 5-shot",
        "Accuracy (random guessing = 25%). In the paper, GPT-3 175B reached 43.9% (5-shot).",
        ("knowledge", "reasoning", "question answering"),
        {"accuracy": 1, "calibration": 0.5},
        "Accuracy is the headline; the paper also shows GPT-3's confidence is poorly calibrated.",
        "Became the standard knowledge test for LLMs; scores of frontier models now crowd the top.",
        "elementary mathematics, US history, computer science, law, medicine, ...",
    ),
    Benchmark(
        "BIG-bench", 2022, "Srivastava et al., 2022",
        "Tasks believed to be beyond current models: logic, mathematics, common sense, "
        "linguistics, code, social bias, and more — to study how abilities change with scale.",
        "204 tasks from 450 authors (132 institutions)", 204, "tasks",
        "mixed: multiple choice and free-form generation (JSON or programmatic tasks)",
        "Per-task metric (exact match, multiple-choice accuracy, BLEU/ROUGE, ...) normalised to 0-100.",
        ("reasoning", "knowledge", "generation", "safety"),
        {"accuracy": 1, "calibration": 0.5, "bias": 0.5},
        "Task metrics are the headline; the paper also analyses calibration and has social-bias tasks.",
        "BIG-Bench Hard (23 tasks where models trailed humans) showed chain-of-thought prompting helps.",
        "logical deduction, multistep arithmetic, date understanding, ...",
    ),
    Benchmark(
        "HELM", 2022, "Liang et al., 2022",
        "Holistic: many scenarios (task + domain + language) each measured with many metrics, "
        "for many models under the same conditions, with all prompts and outputs published.",
        "42 scenarios (16 core) x 7 metrics; 30 models in the first release", 42, "scenarios",
        "mixed: QA, summarization, information retrieval, sentiment, toxicity detection, ...",
        "A matrix of scenario x metric instead of one number; models are compared per column.",
        ("knowledge", "question answering", "generation", "safety", "efficiency"),
        {d: 1 for d in HELM_METRICS},
        "The seven metric categories are measured for each core scenario where possible: 87.5 % of the "
        "(core scenario, metric) pairs (Liang et al., 2022, abstract).",
        "A living benchmark: new models and scenarios are added over time.",
        "NaturalQuestions, MMLU, XSUM/CNN-DM summarization, IMDB, CivilComments, ...",
    ),
]

CAPABILITIES = sorted({c for b in BENCHMARKS for c in b.capabilities})

GOALS: dict[str, tuple[str, str]] = {
    "Does my encoder understand sentences and sentence pairs?": (
        "GLUE / SuperGLUE", "Classic fine-tuning benchmarks for encoders such as BERT; both are largely saturated."),
    "How much world knowledge does my LLM have?": (
        "MMLU", "57 subjects, multiple choice, few-shot: knowledge learned in pretraining."),
    "Can it do hard multi-step reasoning, and does that change with scale?": (
        "BIG-bench (and BIG-Bench Hard)", "Diverse, deliberately hard tasks; compare prompting strategies such as chain-of-thought."),
    "Is it calibrated, robust, fair, non-toxic and affordable — not only accurate?": (
        "HELM", "Reports seven metric categories side by side for the same scenarios."),
    "Is my summarizer's output close to human summaries?": (
        "ROUGE on a held-out test set (this week's lesson)", "Task metric rather than a benchmark; HELM also reports it for summarization."),
}


def filter_benchmarks(capabilities: list[str] | None = None, dimension: str | None = None,
                      min_tasks: int = 0) -> list[Benchmark]:
    """Benchmarks covering ANY of the capabilities, measuring ``dimension`` (at least partly)
    and having at least ``min_tasks`` tasks/subjects/scenarios."""
    out = []
    for b in BENCHMARKS:
        if capabilities and not set(capabilities) & set(b.capabilities):
            continue
        if dimension and b.coverage.get(dimension, 0) <= 0:
            continue
        if b.n_tasks < min_tasks:
            continue
        out.append(b)
    return out


def coverage_matrix(benchmarks: list[Benchmark] | None = None) -> tuple[list[str], list[str], list[list[float]]]:
    """(benchmark names, HELM dimensions, values 0 / 0.5 / 1) for a heatmap."""
    bs = BENCHMARKS if benchmarks is None else benchmarks
    return [b.name for b in bs], DIMENSIONS, [[float(b.coverage.get(d, 0)) for d in DIMENSIONS] for b in bs]


def by_name(name: str) -> Benchmark:
    for b in BENCHMARKS:
        if b.name == name:
            return b
    raise KeyError(name)
