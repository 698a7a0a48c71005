"""The generative AI project lifecycle, as the course frames it, and where each stage is taught.

Four stages, in order -- though real projects loop back from adapt/align and integrate:

1. Scope    -- define the use case as narrowly as possible (one task or many?)
2. Select   -- pick an existing pretrained model, or (rarely) pretrain your own
3. Adapt and align -- prompt engineering, fine-tuning, alignment with human feedback, evaluation
4. Application integration -- optimise the model for inference, then augment it (RAG, tools,
   reasoning) and build the LLM-powered application

Each sub-step names its lessons by their exact url name (the page registry's id, e.g.
``"rag"``); :func:`links` resolves them against ``lessons.course`` by exact id, never by
substring (a substring search once linked "RAG" to "ROUGE ave-rag-es"). A test checks that
every id exists, so a renamed page cannot silently drop a link.
"""
from __future__ import annotations

from dataclasses import dataclass

from lessons import course


@dataclass(frozen=True)
class SubStep:
    name: str
    what: str
    pages: tuple[str, ...]      # url names of the lesson pages that teach it (course.Lesson.url)


@dataclass(frozen=True)
class Stage:
    key: str
    name: str
    question: str
    substeps: tuple[SubStep, ...]


STAGES: tuple[Stage, ...] = (
    Stage("scope", "Scope", "What exactly must the model do? One narrow task, or many?", (
        SubStep("Define the use case", "Name the task(s) and the quality needed: summarise, classify, extract, chat, "
                "call tools. A narrow scope lets a small model do the job.", ("prompts-inference", "tokens")),
    )),
    Stage("select", "Select", "Start from an existing model, or pretrain your own?", (
        SubStep("Choose an existing model", "Compare encoders, decoders and encoder-decoders, and their sizes, on "
                "your task.", ("architectures", "embeddings", "positional", "self-attention", "attention-maps",
                 "next-token")),
        SubStep("Pretrain your own model", "Only for a special domain or language: costly, governed by scaling laws.",
                ("pretraining-objectives", "pretraining-live", "data-quality", "scaling-laws",
                 "domain-adaptation")),
    )),
    Stage("adapt", "Adapt and align", "Is prompting enough, or must the weights change?", (
        SubStep("Prompt engineering", "Zero-, one-, few-shot prompts and generation settings.",
                ("in-context-learning", "sampling", "generation")),
        SubStep("Fine-tuning", "Instruction fine-tuning, full or parameter-efficient (LoRA, soft prompts).",
                ("lora", "lora-training", "prompt-tuning", "forgetting")),
        SubStep("Align with human feedback", "Reward models, RLHF with PPO, DPO, constitutional AI.",
                ("preferences-reward", "ppo", "reward-hacking", "dpo", "constitutional-ai")),
        SubStep("Evaluate", "ROUGE, BLEU and benchmarks: measure before and after each change.",
                ("rouge-bleu", "corpus-scoring", "model-summaries", "benchmarks")),
    )),
    Stage("integrate", "Application integration", "How will it run, and what does it need around it?", (
        SubStep("Optimise and deploy for inference", "Distillation, quantization, pruning: smaller and faster.",
                ("quantization", "distillation", "pruning")),
        SubStep("Augment the model and build the app", "Retrieval (RAG), tools and reasoning (ReAct, chain of "
                "thought) to overcome knowledge cut-offs and weak maths.", ("rag", "reasoning", "react")),
    )),
)


def stage(key: str) -> Stage:
    for s in STAGES:
        if s.key == key:
            return s
    raise KeyError(key)


def links(sub: SubStep, lessons: list[course.Lesson] | None = None) -> list[course.Lesson]:
    """Existing lesson pages that teach this sub-step (exact url names, in course order)."""
    lessons = course.discover() if lessons is None else lessons
    found = [l for l in lessons if l.url in sub.pages and l.week > 0]
    return sorted(found, key=lambda l: (l.week, l.order, l.title))


def missing_pages(lessons: list[course.Lesson] | None = None) -> list[str]:
    """Url names in STAGES that no lesson page has (a test keeps this empty)."""
    have = {l.url for l in (course.discover() if lessons is None else lessons)}
    return [p for s in STAGES for sub in s.substeps for p in sub.pages if p not in have]


@dataclass
class Advice:
    approach: str
    reasons: list[str]


def prompting_or_finetuning(n_labelled: int, n_tasks: int, few_shot_gain: float, prompt_tokens: int,
                            context_window: int) -> Advice:
    """A rule of thumb, in the course's spirit, for the adapt stage: start with prompting;
    move to fine-tuning when examples stop helping, the prompt eats the context window, or
    there is enough labelled data to put into the weights."""
    reasons, score = [], 0
    if few_shot_gain < 0.05:
        score += 1
        reasons.append(f"few-shot examples bought only {few_shot_gain:+.0%} accuracy")
    else:
        reasons.append(f"few-shot examples bought {few_shot_gain:+.0%}: prompting is working")
    if prompt_tokens > 0.5 * context_window:
        score += 1
        reasons.append(f"the prompt uses {prompt_tokens / context_window:.0%} of the context window")
    if n_labelled >= 500:
        score += 1
        reasons.append(f"{n_labelled:,} labelled examples are enough to fine-tune")
    elif n_labelled < 50:
        score -= 1
        reasons.append(f"only {n_labelled} labelled examples: too few to fine-tune well")
    if n_tasks > 1:
        reasons.append(f"{n_tasks} tasks: fine-tune on all of them together (multi-task) to avoid "
                       "catastrophic forgetting, or use one PEFT adapter per task")
    approach = "fine-tune (parameter-efficient first: LoRA)" if score >= 2 else (
        "try fine-tuning, keep the prompt as a baseline" if score == 1 else "keep prompting")
    return Advice(approach, reasons)
