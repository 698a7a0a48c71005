"""RLHF, one concept per module; modules of this package may import each other.

preferences.py     preference pairs, rankings -> pairs, labelers
reward_model.py    r_phi: a linear head on frozen word vectors, Bradley-Terry loss
policy.py          pi_theta with a value head, rollouts, per-token log-probs, KL to pi_ref
ppo.py             PPO with a KL penalty (the loop and its clipped objective)
dpo.py             DPO: the preference loss without a reward model
reward_hacking.py  PPO with beta = 0: the reward model exploited
"""
