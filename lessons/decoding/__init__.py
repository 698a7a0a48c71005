"""Decoding: turning a model's next-token scores into text.

sampling.py    temperature, top-k, top-p, step by step; seeded draws
generation.py  the generation loop written out token by token (uses sampling's filter)

Modules of this package may import each other.
"""
