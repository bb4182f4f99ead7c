#!/usr/bin/python3
"""Twin of examples/wine-gaussian: MLP VAE with a Gaussian likelihood on the standardized wine table.

Data: sklearn's wine_data.csv (178 rows, 13 columns, the class column dropped), a random 20% held out
as the test set, 20 of the rest for validation (not used here), columns z-scored with the training
statistics. Encoder 13 -> 64 -> 32 -> 2*2, decoder 2 -> 32 -> 64 -> 13 (means), ReLU; Gaussian
likelihood with a learned log scale per column (initially log 0.5), N(0, I) prior, analytic KL, one
particle; loss the batch mean of -ELBO; Adam lr 2e-3, batch 32 (elbo's model::Vae, nn::Likelihood).

    /usr/bin/python3 bench/twins/gaussian_mlp.py [--epochs 300] [--seed 1]
"""
import math

import numpy as np
import torch
from torch import nn

import common as C

WINE = "/usr/lib/python3/dist-packages/sklearn/datasets/data/wine_data.csv"


class GaussianVae(nn.Module):
    def __init__(s, features=13, hidden=(64, 32), latent=2, scale=0.5):
        super().__init__()
        s.enc = C.mlp([features, *hidden, 2 * latent])
        s.dec = C.mlp([latent, *reversed(hidden), features])
        s.log_scale = nn.Parameter(torch.full((features,), math.log(scale)))

    def loss(s, x):
        mu, ls = C.posterior(s.enc(x))
        mean = s.dec(C.rsample(mu, ls))
        rec = C.normal_log_prob(x, mean, s.log_scale.expand_as(mean)).sum(-1)
        return -(rec - C.kl_std_normal(mu, ls)).mean()


def main():
    a = C.setup(C.arguments(__doc__, batch_size=32, lr=2e-3))
    x = np.loadtxt(WINE, delimiter=",", skiprows=1, dtype=np.float32)[:, :-1]
    perm = np.random.default_rng(a.seed).permutation(len(x))
    n_test = int(round(0.2 * len(x)))
    test, rest = x[perm[:n_test]], x[perm[n_test:]]
    train = rest[20:]  # 20 validation rows left out, as data.validation = 20
    mean, std = train.mean(0), train.std(0)
    xtr = torch.from_numpy((train - mean) / std)
    xte = torch.from_numpy((test - mean) / std)
    C.train_and_emit("gaussian", GaussianVae(), xtr, xte, a, floor_steps=a.floor_steps * 10, train_examples=len(xtr))


if __name__ == "__main__":
    main()
