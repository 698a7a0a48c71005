"""Writes the two small instruction datasets the Week 2 pages fine-tune the tiny GPT on.

Run `python assets/instructions/build_datasets.py` to regenerate archaic.jsonl and mood.jsonl
(deterministic: fixed seed). Every example is written by these rules, so the answers are
unambiguous and a 1.3M-parameter model can learn them in about a minute on a CPU:

* archaic  - "Say it as Shakespeare would.": modern words -> Elizabethan ones
             (you -> thou, your -> thy, are -> art, has -> hath, does -> doth, ...).
* mood     - "Is this line about love or war?": one word answer, love / war.

Splits are by example (70 % train, 15 % validation, 15 % test) after a seeded shuffle.
"""
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 1599  # the Globe Theatre opened in 1599

ARCHAIC = {"you": "thou", "your": "thy", "are": "art", "has": "hath", "does": "doth",
           "yes": "ay", "no": "nay", "before": "ere", "often": "oft", "perhaps": "perchance",
           "nothing": "naught", "truly": "verily"}
ADJ = ["fair", "kind", "noble", "brave", "cruel", "gentle", "wise", "false", "sweet", "proud"]
NOUN = ["lord", "heart", "sword", "crown", "friend", "king", "lady", "horse", "soul", "father"]
TEMPLATES = [
    "you are {a}", "your {n} is {a}", "perhaps you are {a}", "he has a {a} {n}",
    "she does love your {n}", "yes, my {n} is {a}", "no, your {n} is not {a}",
    "before the {n} comes", "I often think of your {n}", "the {n} has nothing",
    "truly, you are my {n}", "your {a} {n} has gone",
]

LOVE_N = ["kiss", "heart", "rose", "lover", "sigh", "embrace", "bride", "sweetheart", "valentine", "darling"]
LOVE_A = ["sweet", "tender", "gentle", "dear", "fond"]
WAR_N = ["sword", "battle", "soldier", "drum", "siege", "spear", "trumpet", "enemy", "army", "shield"]
WAR_A = ["bloody", "fierce", "grim", "bold", "iron"]
MOOD_TEMPLATES = ["the {a} {n} calls to me", "I dream of a {a} {n}", "O {a} {n}, come near",
                  "bring me the {n} at dawn", "my {n} is {a} tonight", "what {a} {n} is this"]


def archaic(sentence: str) -> str:
    out = []
    for word in sentence.split(" "):
        core = word.rstrip(",")
        tail = word[len(core):]
        new = ARCHAIC.get(core.lower(), core)
        if core[:1].isupper():
            new = new[:1].upper() + new[1:]
        out.append(new + tail)
    return " ".join(out)


def split(rows, rng):
    rng.shuffle(rows)
    n = len(rows)
    a, b = int(0.70 * n), int(0.85 * n)
    for i, r in enumerate(rows):
        r["split"] = "train" if i < a else "validation" if i < b else "test"
    return rows


def build():
    rng = random.Random(SEED)
    modern = sorted({t.format(a=a, n=n) for t in TEMPLATES for a in ADJ for n in NOUN})
    rows = [{"input": m, "output": archaic(m)} for m in rng.sample(modern, 240)]
    write("archaic", "Say it as Shakespeare would.", split(rows, rng))
    lines = []
    for label, nouns, adjs in (("love", LOVE_N, LOVE_A), ("war", WAR_N, WAR_A)):
        every = sorted({t.format(a=a, n=n) for t in MOOD_TEMPLATES for a in adjs for n in nouns})
        lines += [{"input": s, "output": label} for s in rng.sample(every, 120)]
    write("mood", "Is this line about love or war?", split(lines, rng))


def write(task, instruction, rows):
    with open(HERE / f"{task}.jsonl", "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({"task": task, "instruction": instruction, **r}) + "\n")


if __name__ == "__main__":
    build()
