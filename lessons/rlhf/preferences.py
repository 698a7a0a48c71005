"""Human preferences as pairwise data: the first stage of RLHF.

Labelers find it much easier (and more consistent) to say "A is better than B" than to
give a score, so RLHF collects *comparisons*. A labeler who ranks k completions of the same
prompt gives k(k-1)/2 pairs at once: the ranking 1 > 2 > 3 > 4 yields (1,2) (1,3) (1,4)
(2,3) (2,4) (3,4). Each pair is stored as (prompt x, chosen y_w, rejected y_l).

Here the "humans" can be the learner (clicks) or a *simulated labeler* -- a fixed rule we can
query hundreds of times in a second:

* ``reader``    : a reader who wants positive *lines of language*: VADER sentiment, but a line
                  that does not read like language (empty, under 3 words, a word repeated,
                  no function word at all -- "good good love good") loses to every line that
                  does. The default: spam that fools a bag-of-words reward model cannot fool it.
* ``positive``  : VADER sentiment (compound score, -1..1) -- more positive is better. VADER
                  alone can be gamed too: it scores "good good good" near +1.
* ``shorter``   : fewer characters is better
* ``avoid``     : fewer uses of a chosen word is better (ties on the others: more positive)

Pure Python (no streamlit).
"""
from __future__ import annotations

import itertools
import random
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Callable, Optional

LABELERS = {
    "reader": "A reader: more positive is better, if the line reads like language",
    "positive": "More positive is better (VADER sentiment only)",
    "shorter": "Shorter is better",
    "avoid": "Avoid a chosen word",
}


@dataclass(frozen=True)
class PreferencePair:
    prompt: str
    chosen: str      # y_w, the preferred completion
    rejected: str    # y_l
    source: str      # "ranking", "simulated: positive", "you", ...


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_compound(text: str) -> float:
    """VADER's compound sentiment in [-1, 1] (0 = neutral)."""
    return float(_vader().polarity_scores(text)["compound"])


def word_count(text: str, word: str) -> int:
    word = (word or "").strip().lower()
    if not word:
        return 0
    return len(re.findall(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text.lower()))


# Words that glue real sentences together (modern and Shakespearean). A line of language has
# some; a list of sentiment words ("good love great sweet") has none.
FUNCTION_WORDS = frozenset("""
a an the and or but nor of to in on at by for with from as into upon unto than then so if not no
i me my mine you your yours thou thee thy thine he him his she her it its we us our they them their
this that these those who whom what which where when how why all some any
is are was were be been am art hath has have had do does doth did will shall would should
can could may might must let o
""".split())
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def reads_like_language(text: str) -> bool:
    """The reader's fluency check, deliberately simple and hand-checkable: at least 3 words,
    no word twice in a row, no word more than twice, and at least one function word."""
    words = _WORD.findall((text or "").lower())
    if len(words) < 3:
        return False
    if any(a == b for a, b in zip(words, words[1:])):
        return False
    if max(words.count(w) for w in set(words)) > 2:
        return False
    return any(w in FUNCTION_WORDS for w in words)


@dataclass(frozen=True)
class Labeler:
    """A simulated labeler: a score; it prefers the completion with the higher score.
    Equal scores are a tie (no preference), like a human who skips."""
    kind: str = "reader"
    word: str = "death"

    @property
    def description(self) -> str:
        if self.kind == "avoid":
            return f"Avoid the word '{self.word}'"
        return LABELERS[self.kind]

    def score(self, text: str) -> float:
        if self.kind == "reader":   # sentiment in [-1, 1]; a line that is not language: below -1
            return vader_compound(text) - (0.0 if reads_like_language(text) else 3.0)
        if self.kind == "positive":
            return vader_compound(text)
        if self.kind == "shorter":
            return -float(len(text.strip()))
        if self.kind == "avoid":
            return -float(word_count(text, self.word))
        raise ValueError(f"unknown labeler {self.kind!r}")

    def prefers(self, a: str, b: str) -> float:
        """1 if a is preferred, 0 if b is, 0.5 for a tie."""
        sa, sb = self.score(a), self.score(b)
        return 1.0 if sa > sb else 0.0 if sa < sb else 0.5


def ranking_to_pairs(prompt: str, ranked: list[str], source: str = "ranking") -> list[PreferencePair]:
    """A ranking best-first of k completions -> its k(k-1)/2 (chosen, rejected) pairs."""
    return [PreferencePair(prompt, ranked[i], ranked[j], source)
            for i, j in itertools.combinations(range(len(ranked)), 2)]


def rank_by_labeler(completions: list[str], labeler: Labeler) -> tuple[list[str], list[float]]:
    """Sort best-first by the labeler's score (stable: ties keep their order)."""
    scored = sorted(((labeler.score(c), i, c) for i, c in enumerate(completions)), key=lambda t: (-t[0], t[1]))
    return [c for _, _, c in scored], [s for s, _, _ in scored]


def label_group(prompt: str, completions: list[str], labeler: Labeler) -> tuple[list[PreferencePair], int]:
    """Simulated labeling of k completions: rank them, keep the pairs that are not ties.
    Returns (pairs, number of tied pairs skipped)."""
    ranked, scores = rank_by_labeler(completions, labeler)
    pairs, ties = [], 0
    for i, j in itertools.combinations(range(len(ranked)), 2):
        if scores[i] == scores[j] or ranked[i] == ranked[j]:
            ties += 1
            continue
        pairs.append(PreferencePair(prompt, ranked[i], ranked[j], f"simulated: {labeler.kind}"))
    return pairs, ties


@dataclass
class LabelingResult:
    pairs: list[PreferencePair]
    ties_skipped: int
    groups: int
    completions_sampled: int


def simulate_labeling(sample_fn: Callable[[list[str]], list[str]], prompts: list[str], labeler: Labeler,
                      n_pairs: int = 300, k: int = 4, seed: int = 0, max_groups: int = 400,
                      progress: Optional[Callable[[int, int], None]] = None) -> LabelingResult:
    """Sample k completions for prompts (``sample_fn(list_of_prompts) -> completions``, one per
    prompt), let the simulated labeler rank each group and keep non-tied pairs until
    ``n_pairs`` pairs exist (or ``max_groups`` groups were labeled: bounded)."""
    rng = random.Random(seed)
    pairs: list[PreferencePair] = []
    ties = groups = sampled = 0
    batch_groups = 16
    while len(pairs) < n_pairs and groups < max_groups:
        chosen_prompts = [rng.choice(prompts) for _ in range(batch_groups)]
        flat = [p for p in chosen_prompts for _ in range(k)]          # k copies of each prompt
        outs = sample_fn(flat)
        sampled += len(outs)
        for g, prompt in enumerate(chosen_prompts):
            got, t = label_group(prompt, outs[g * k:(g + 1) * k], labeler)
            pairs += got
            ties += t
            groups += 1
        if progress:
            progress(min(len(pairs), n_pairs), n_pairs)
    return LabelingResult(pairs[:n_pairs], ties, groups, sampled)


def simulate_with_model(model, tokenizer, labeler: Labeler, prompts: Optional[list[str]] = None,
                        n_pairs: int = 300, k: int = 4, seed: int = 0, max_new_tokens: int = 12,
                        progress: Optional[Callable[[int, int], None]] = None) -> LabelingResult:
    """Simulated labeling of completions sampled from ``model`` (read-only use)."""
    import torch

    from lessons.rlhf import policy

    g = torch.Generator().manual_seed(seed)
    sample_fn = lambda ps: policy.sample(model, tokenizer, ps, max_new_tokens, generator=g).completions  # noqa: E731
    return simulate_labeling(sample_fn, prompts or policy.PROMPTS, labeler, n_pairs, k, seed, progress=progress)


def split_pairs(pairs: list[PreferencePair], held_out: float = 0.2, seed: int = 0):
    """Train / held-out split *by prompt*: pairs from one ranking share completions, so a
    random split would test on texts the reward model already saw. With fewer than 3
    prompts (e.g. only your clicks on one prompt) it falls back to a seeded random split."""
    rng = random.Random(seed)
    prompts = sorted({p.prompt for p in pairs})
    if len(prompts) >= 3:
        rng.shuffle(prompts)
        test_prompts, n = set(), 0
        for pr in prompts:                      # hold out whole prompts until ~held_out of pairs
            if n >= held_out * len(pairs) or len(test_prompts) >= len(prompts) - 1:
                break
            test_prompts.add(pr)
            n += sum(p.prompt == pr for p in pairs)
        return [p for p in pairs if p.prompt not in test_prompts], [p for p in pairs if p.prompt in test_prompts]
    idx = list(range(len(pairs)))
    rng.shuffle(idx)
    n_test = max(1, int(round(len(pairs) * held_out))) if len(pairs) > 1 else 0
    return [pairs[i] for i in idx[n_test:]], [pairs[i] for i in idx[:n_test]]


def as_rows(pairs: list[PreferencePair]) -> list[dict]:
    return [asdict(p) for p in pairs]
