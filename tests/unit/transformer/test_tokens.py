"""lessons.transformer.tokens against the real tokenizers: GPT-2 ids, byte-level pieces that rebuild the
exact UTF-8 bytes, WordPiece [UNK], counts and context-window fill."""
import pytest
from tokenizers import pre_tokenizers

from lessons import models
from lessons.transformer import tokens
from lessons.core import pieces


@pytest.fixture(scope="module")
def toks():
    smol = models.load_smollm2().tokenizer
    return {
        "GPT-2 BPE": (models.load_gpt2_tokenizer(), pieces.BYTE_LEVEL),
        "SmolLM2 BPE": (smol, pieces.BYTE_LEVEL),
        "MiniLM WordPiece": (models.load_minilm().tokenizer, pieces.WORDPIECE),
    }


def test_byte_table_is_the_byte_level_alphabet():
    table = pieces.bytes_to_unicode()
    assert len(table) == 256 and len(set(table.values())) == 256
    assert set(table.values()) == set(pre_tokenizers.ByteLevel.alphabet())  # tokenizers' own table
    assert table[ord(" ")] == "Ġ" and table[ord("A")] == "A"


@pytest.mark.slow
def test_gpt2_real_ids_and_labels(toks):
    gpt2 = tokens.tokenize(toks["GPT-2 BPE"][0], "Hello world", "GPT-2 BPE", pieces.BYTE_LEVEL)
    assert gpt2.ids == [15496, 995]
    assert gpt2.pieces == ["Hello", "Ġworld"] and gpt2.labels == ["Hello", "␣world"]
    assert gpt2.vocab_size == 50257


@pytest.mark.parametrize("text", ["Héllo 世界 🤖 <script>", "naïve café\nnew line", "🐱🐱🐱"])
def test_byte_level_pieces_rebuild_the_exact_bytes(toks, text):
    for name in ("GPT-2 BPE", "SmolLM2 BPE"):
        tk = tokens.tokenize(toks[name][0], text, name, pieces.BYTE_LEVEL)
        assert b"".join(pieces.piece_bytes(p) for p in tk.pieces) == text.encode("utf-8")
        assert toks[name][0].decode(tk.ids) == text


def test_emoji_becomes_byte_tokens_and_wordpiece_unk(toks):
    res = {tk.name: tk for tk in tokens.compare(toks, "I love 🤖")}
    gpt2 = res["GPT-2 BPE"]
    assert any(gpt2.partial_bytes) and any(l.startswith("<") and l.endswith(">") for l in gpt2.labels)
    # the robot is F0 9F A4 96 in UTF-8: GPT-2 splits it across 3 tokens, shown as hex bytes
    assert gpt2.labels == ["I", "␣love", "␣<F0 9F>", "<A4>", "<96>"]
    assert gpt2.partial_bytes == [False, False, True, True, True]
    mini = res["MiniLM WordPiece"]
    assert mini.pieces[0] == "[CLS]" and mini.pieces[-1] == "[SEP]" and mini.n_special == 2
    assert "[UNK]" in mini.pieces and mini.unknown == 1
    assert mini.ids == toks["MiniLM WordPiece"][0]("I love 🤖")["input_ids"]


def test_wordpiece_continuation_and_cjk(toks):
    mini = tokens.tokenize(toks["MiniLM WordPiece"][0], "Tokenization 東京", "MiniLM", pieces.WORDPIECE)
    assert any(p.startswith("##") for p in mini.pieces)
    assert "東" in mini.pieces or "[UNK]" in mini.pieces


def test_counts_and_context_fill():
    c = tokens.text_counts("Hi 世界 🤖!")
    assert c["characters"] == 8  # H i ␣ 世 界 ␣ 🤖 !
    assert c["bytes (UTF-8)"] == 2 + 1 + 6 + 1 + 4 + 1 == len("Hi 世界 🤖!".encode())
    assert c["words"] == 2  # "Hi" and "世界" (the emoji is not a word character)
    f = tokens.context_fill(300, 1024)
    assert f["fraction"] == pytest.approx(300 / 1024) and f["copies"] == 3 and f["overflow"] == 0
    f = tokens.context_fill(1500, 1024)
    assert f["overflow"] == 476 and f["copies"] == 0 and f["left"] == 0
    with pytest.raises(ValueError):
        tokens.context_fill(5, 0)


def test_char_width():
    assert tokens.char_width("abc") == 3 and tokens.char_width("東京") == 4 and tokens.char_width("") == 1
