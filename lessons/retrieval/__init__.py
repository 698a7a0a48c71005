"""Retrieval-augmented generation.

vector_store.py  chunking, embeddings, a cosine-similarity store
rag.py           retrieve -> prompt with context -> generate; hit rate; retrieval as a tool

Modules of this package may import each other.
"""
