"""lessons.transformer.embeddings against scikit-learn (PCA, cosine) and the real models."""
import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.metrics.pairwise import cosine_similarity

from lessons.transformer import embeddings




def test_pca_equals_sklearn():
    x = torch.randn(12, 20, generator=torch.Generator().manual_seed(0))
    for k in (2, 3):
        proj, ratio = embeddings.pca(x, k)
        ref = PCA(n_components=k, svd_solver="full").fit(x.numpy().astype(np.float64))
        np.testing.assert_allclose(ratio.numpy(), ref.explained_variance_ratio_, atol=1e-5)
        refp = ref.transform(x.numpy().astype(np.float64))
        # principal axes are defined up to sign; compare column by column
        for j in range(k):
            a, b = proj[:, j].numpy(), refp[:, j]
            assert np.allclose(a, b, atol=1e-4) or np.allclose(a, -b, atol=1e-4)


def test_cosine_equals_sklearn():
    x = torch.randn(7, 9, generator=torch.Generator().manual_seed(1))
    np.testing.assert_allclose(embeddings.cosine_matrix(x).numpy(), cosine_similarity(x.numpy()), atol=1e-6)


def test_word_vectors_are_table_rows(smol, minilm):
    wv = embeddings.word_vectors(smol, ["king", "queen"])
    ids = smol.tokenizer(" king", add_special_tokens=False)["input_ids"]
    assert wv.pieces[0] == ["Ġking"]
    torch.testing.assert_close(wv.vectors[0], smol.model.model.embed_tokens.weight[ids].mean(0).detach())
    assert wv.vectors.shape == (2, 576)
    mv = embeddings.word_vectors(minilm, ["king", "tokenization"])
    assert mv.vectors.shape == (2, 384) and len(mv.pieces[1]) > 1  # split into word pieces


def test_related_words_are_closer(smol, minilm):
    for lm in (smol, minilm):
        wv = embeddings.word_vectors(lm, ["Monday", "Tuesday", "banana"])
        c = embeddings.cosine_matrix(wv.vectors)
        assert c[0, 1] > c[0, 2]


@pytest.mark.slow
def test_contextual_bank_drifts_apart(minilm):
    r = embeddings.contextual(minilm, "bank", "I sat on the river bank and watched the water.",
                     "I deposited the cheque at the bank this morning.")
    assert r.pieces_a == ["bank"] == r.pieces_b
    assert r.static_similarity == pytest.approx(1.0)
    assert len(r.layer_similarity) == 7
    assert r.layer_similarity[-1] < 0.9 < r.static_similarity
    # check one layer against the model directly
    enc = minilm.tokenizer("I sat on the river bank and watched the water.", return_tensors="pt")
    enc2 = minilm.tokenizer("I deposited the cheque at the bank this morning.", return_tensors="pt")
    with torch.no_grad():
        h1 = minilm.model(**enc).last_hidden_state[0, r.pos_a]
        h2 = minilm.model(**enc2).last_hidden_state[0, r.pos_b]
    assert r.layer_similarity[-1] == pytest.approx(float(torch.cosine_similarity(h1, h2, dim=0)), abs=1e-5)


def test_contextual_errors(minilm):
    with pytest.raises(ValueError, match="does not appear"):
        embeddings.contextual(minilm, "bank", "no such word", "the bank")
    with pytest.raises(ValueError):
        embeddings.contextual(minilm, " ", "a", "b")
