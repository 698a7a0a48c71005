"""Worked candidate/reference pairs for the ROUGE & BLEU page, each with the lesson it shows."""
from __future__ import annotations

PRESETS: dict[str, dict] = {
    "Dialogue summary": {
        "candidate": "Amanda baked cookies and will bring some to Jerry tomorrow.",
        "reference": "Amanda baked cookies and will bring Jerry some tomorrow.",
        "lesson": "A good summary: most words and word pairs match, the order is almost the same.",
    },
    "Clipping: one word repeated": {
        "candidate": "the the the the the the the",
        "reference": "the cat is on the mat",
        "lesson": "Without clipping, 'the' x7 would have unigram precision 7/7. Clipped at the 2 "
                  "occurrences in the reference it is 2/7: repeating a word cannot buy a score.",
    },
    "Faithful paraphrase scores low": {
        "candidate": "The meeting was moved to Friday because the manager is ill.",
        "reference": "Since the boss is sick, the meeting will happen at the end of the week instead.",
        "lesson": "Same meaning, different words: ROUGE and BLEU only count surface overlap, so a "
                  "correct paraphrase looks bad. chrF is a little kinder; humans would rate it well.",
    },
    "Shuffled words": {
        "candidate": "cookies tomorrow and Jerry baked some Amanda bring will",
        "reference": "Amanda baked cookies and will bring Jerry some tomorrow.",
        "lesson": "Every word is there, so ROUGE-1 recall is perfect, but the sentence is nonsense: "
                  "ROUGE-2 (word pairs) and ROUGE-L (order) collapse. Always report more than ROUGE-1.",
    },
    "rougeL vs rougeLsum (two sentences)": {
        "candidate": "Jerry will pick up the cake.\nAmanda is sending the invitations today.",
        "reference": "Amanda is sending the invitations today.\nJerry will pick up the cake.",
        "lesson": "The sentences are swapped. rougeL treats the text as one sequence, so the LCS "
                  "can only follow one sentence; rougeLsum splits on newlines and takes a union "
                  "LCS per reference sentence, so it credits both.",
    },
    "Numbers and punctuation": {
        "candidate": "The meeting is at 10:30, room 4-B; bring 2 laptops!",
        "reference": "Meeting at 10:30 in room 4B, bring two laptops.",
        "lesson": "rouge-score drops punctuation ('10:30' -> '10', '30'; '4-B' -> '4', 'b'). "
                  "sacreBLEU's 13a splits them too but keeps ':' and '-' as tokens of their own "
                  "(and leaves '3.5' or '1,000' whole). '2' and 'two' never match.",
    },
    "Stemming helps": {
        "candidate": "The cats were running and jumped over the fences.",
        "reference": "The cat runs and jumps over the fence.",
        "lesson": "With the Porter stemmer, cats->cat, running/runs->run, jumped/jumps->jump, "
                  "fences->fenc match. Turn the stemming toggle on and off.",
    },
    "Non-Latin text (the pitfall)": {
        "candidate": "猫はマットの上に座った。Кошка сидит на коврике.",
        "reference": "猫がマットの上に座っている。Кошка сидела на коврике.",
        "lesson": "rouge-score's default tokenizer keeps only a-z and 0-9, so Japanese and "
                  "Russian words vanish and every ROUGE score is 0. Choose the Unicode tokenizer "
                  "(not the default) to score them; BLEU's 13a tokenizer keeps them.",
    },
}
