"""vector_store: chunking, MiniLM embeddings vs sentence-transformers, cosine top-k vs
sklearn / torch brute force, PCA vs sklearn."""
import math

import numpy as np
import pytest
import torch

from lessons import models
from lessons.retrieval.vector_store import VectorStore, chunk_documents, chunk_words, contains_answer, embed, pca_2d


@pytest.fixture(scope="module")
def encoder():
    return models.load_minilm("cpu")


@pytest.mark.parametrize("n,size,overlap", [(100, 40, 10), (40, 40, 10), (41, 40, 10), (7, 40, 0), (95, 20, 5), (50, 10, 9)])
def test_chunk_words_cover_every_word_with_the_right_stride(n, size, overlap):
    words = [f"w{i}" for i in range(n)]
    chunks = chunk_words(words, size, overlap)
    stride = size - overlap
    assert [s for s, _ in chunks] == [i * stride for i in range(len(chunks))]
    assert all(len(ws) <= size for _, ws in chunks)
    assert set(w for _, ws in chunks for w in ws) == set(words)      # nothing lost
    expected = 1 if n <= size else math.ceil((n - overlap) / stride)
    assert len(chunks) == expected
    for (s1, a), (s2, b) in zip(chunks, chunks[1:]):                  # neighbours share `overlap` words
        assert a[-overlap:] == b[:overlap] if overlap else a[-1] != b[0]


def test_chunk_words_rejects_bad_settings():
    with pytest.raises(ValueError):
        chunk_words(["a"], 0, 0)
    with pytest.raises(ValueError):
        chunk_words(["a"], 10, 10)


def test_chunk_documents_keep_source_and_text():
    docs = [{"id": "a", "title": "A", "text": " ".join(str(i) for i in range(25))}, {"id": "b", "title": "B", "text": ""}]
    ch = chunk_documents(docs, 10, 2)
    assert [c.doc_id for c in ch] == ["a"] * 3 and ch[1].text.split()[0] == "8" and ch[1].start == 8


@pytest.mark.slow
def test_embeddings_match_sentence_transformers(encoder):
    from sentence_transformers import SentenceTransformer

    texts = ["The coffee machine is named Gustave.", "Dogs are welcome on Fridays.", "héllo 🚲 自転車", "a"]
    ours = embed(texts, encoder, batch_size=3)
    ref = SentenceTransformer(str(models.minilm_dir()), device="cpu").encode(texts, normalize_embeddings=True)
    assert ours.shape == (4, 384)
    np.testing.assert_allclose(ours, ref, atol=2e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert embed([], encoder).shape == (0, 384)


def test_search_matches_sklearn_and_torch_brute_force():
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 16)).astype(np.float32)
    q = rng.normal(size=16).astype(np.float32)
    store = VectorStore(16)
    store.add(x, list(range(200)))
    hits = store.search(q, 7)
    nn = NearestNeighbors(n_neighbors=7, metric="cosine", algorithm="brute").fit(x)
    dist, idx = nn.kneighbors(q[None])
    assert [h.index for h in hits] == idx[0].tolist()
    np.testing.assert_allclose([h.score for h in hits], 1 - dist[0], atol=1e-5)
    cos = torch.nn.functional.cosine_similarity(torch.tensor(x), torch.tensor(q)[None], dim=1)
    np.testing.assert_allclose(store.scores(q), cos.numpy(), atol=1e-5)
    assert [h.index for h in hits] == torch.topk(cos, 7).indices.tolist()
    assert store.search(q, 0) == [] and len(store.search(q, 1000)) == 200


def test_store_rejects_wrong_shapes():
    s = VectorStore(4)
    with pytest.raises(ValueError):
        s.add(np.zeros((2, 3)), ["a", "b"])
    with pytest.raises(ValueError):
        s.add(np.zeros((2, 4)), ["a"])


def test_pca_matches_sklearn():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 10)) @ rng.normal(size=(10, 10))
    extra = rng.normal(size=(3, 10))
    ours, ours_extra, ratio = pca_2d(x, extra)
    pca = PCA(2, svd_solver="full").fit(x)
    ref, ref_extra = pca.transform(x), pca.transform(extra)
    for j in range(2):   # same axes up to the sign convention
        sign = np.sign(ours[:, j] @ ref[:, j])
        np.testing.assert_allclose(ours[:, j], sign * ref[:, j], atol=1e-8)
        np.testing.assert_allclose(ours_extra[:, j], sign * ref_extra[:, j], atol=1e-8)
    np.testing.assert_allclose(ratio, pca.explained_variance_ratio_, atol=1e-10)


def test_contains_answer_ignores_case_and_punctuation():
    assert contains_answer("It costs 3,450 euros.", "3,450 euros")
    assert contains_answer("named GUSTAVE!", "gustave")
    assert not contains_answer("12011 was a year", "2011")
    assert not contains_answer("anything", "")
