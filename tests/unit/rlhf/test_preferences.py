"""Preference data: rankings -> k(k-1)/2 pairs, simulated labelers checked against VADER."""
import itertools

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from lessons.rlhf import preferences as prefs


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_ranking_gives_k_choose_2_pairs_best_first(k):
    ranked = [f"y{i}" for i in range(k)]          # y0 best
    pairs = prefs.ranking_to_pairs("x", ranked)
    assert len(pairs) == k * (k - 1) // 2
    assert {(p.chosen, p.rejected) for p in pairs} == {(f"y{i}", f"y{j}") for i, j in itertools.combinations(range(k), 2)}
    assert all(int(p.chosen[1:]) < int(p.rejected[1:]) for p in pairs)


def test_positive_labeler_is_vader_compound():
    ref = SentimentIntensityAnalyzer()
    for text in ["O happy day, sweet love!", "I hate this cruel and bloody night.", "The king is in the hall.",
                 "😀 wonderful", "Привет"]:
        assert prefs.Labeler("positive").score(text) == pytest.approx(ref.polarity_scores(text)["compound"])
    lab = prefs.Labeler("positive")
    assert lab.prefers("what a lovely, good day", "a terrible, hateful day") == 1.0
    assert lab.prefers("a terrible, hateful day", "what a lovely, good day") == 0.0
    assert lab.prefers("the hall", "the door") == 0.5            # both neutral: a tie


def test_shorter_and_avoid_labelers():
    short = prefs.Labeler("shorter")
    assert short.prefers("My lord.", "My lord, I come with news.") == 1.0
    avoid = prefs.Labeler("avoid", "love")
    assert prefs.word_count("Love, my love; glove and lovely", "love") == 2   # whole words only
    assert avoid.prefers("no such word", "love love") == 1.0
    assert avoid.prefers("glove", "a hand") == 0.5


def test_label_group_skips_ties_and_ranks_by_score():
    lab = prefs.Labeler("positive")
    comps = ["the hall", "a good and happy day", "a cruel, hateful end", "the door"]
    pairs, ties = prefs.label_group("x", comps, lab)
    # 6 pairs among 4; "the hall" and "the door" tie (both 0)
    assert ties == 1 and len(pairs) == 5
    for p in pairs:
        assert lab.score(p.chosen) > lab.score(p.rejected)


def test_simulate_labeling_reaches_n_pairs_and_is_bounded():
    words = ["good", "bad", "happy", "sad", "love", "hate", "the", "a"]
    counter = itertools.count()

    def sample_fn(prompts):
        return [f" {words[next(counter) % len(words)]} day" for _ in prompts]

    res = prefs.simulate_labeling(sample_fn, ["p1", "p2"], prefs.Labeler("positive"), n_pairs=40, k=4)
    assert len(res.pairs) == 40
    assert all(p.prompt in ("p1", "p2") for p in res.pairs)
    # a sampler whose outputs always tie never yields pairs, and the loop still ends
    res = prefs.simulate_labeling(lambda ps: ["same"] * len(ps), ["p"], prefs.Labeler("shorter"),
                                  n_pairs=10, k=3, max_groups=32)
    assert res.pairs == [] and res.groups == 32 and res.ties_skipped == 32 * 3


def test_split_pairs_holds_out_whole_prompts():
    pairs = [prefs.PreferencePair(f"x{i % 10}", f"a{i}", f"b{i}", "t") for i in range(100)]
    train, test = prefs.split_pairs(pairs, 0.2, seed=1)
    assert len(train) + len(test) == 100 and 20 <= len(test) <= 30
    assert {p.prompt for p in train}.isdisjoint({p.prompt for p in test})
    assert prefs.split_pairs(pairs, 0.2, seed=1) == (train, test)
    one = [prefs.PreferencePair("x", f"a{i}", f"b{i}", "you") for i in range(10)]   # a single prompt
    train, test = prefs.split_pairs(one, 0.2)
    assert len(test) == 2 and len(train) == 8


def test_reader_labeler_is_not_fooled_by_spam():
    """The default labeler: VADER sentiment for a line of language; empty lines, repeated words
    and word lists lose to any real line (VADER alone scores the spam near +1)."""
    reader, vader = prefs.Labeler("reader"), prefs.Labeler("positive")
    spam = "good good good love good good good"
    line = "I do not like thee, my lord"
    assert vader.score(spam) > 0.9 and vader.prefers(spam, line) == 1.0     # VADER is fooled
    assert reader.prefers(line, spam) == 1.0                                  # the reader is not
    for bad in ["", "good", "love sweet great", "like like thee my", "my good good lord and"]:
        assert not prefs.reads_like_language(bad), bad
        assert reader.prefers(line, bad) == 1.0
    assert prefs.reads_like_language("O happy day, my sweet and gentle love!")
    assert reader.score("O happy day, my sweet and gentle love!") == pytest.approx(
        vader.score("O happy day, my sweet and gentle love!"))
    assert prefs.Labeler().kind == "reader" and list(prefs.LABELERS)[0] == "reader"
