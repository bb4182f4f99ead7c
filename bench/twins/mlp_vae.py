#!/usr/bin/python3
"""Twin of examples/default: the MLP VAE on Fashion-MNIST (pixels in [0, 1], not binarized).

Encoder 784 -> 400 -> 2*20, decoder 20 -> 400 -> 784 (logits), ReLU; Bernoulli likelihood of the
grey levels, N(0, I) prior, analytic KL, one particle; loss the batch mean of -ELBO; Adam lr 1e-3,
batch 128 (elbo's model::Vae with nn::Mlp; elbo itself trains it on its hand-written step).

    /usr/bin/python3 bench/twins/mlp_vae.py [--n 55000] [--epochs 1] [--seed 1] [--eval-n 1000]
"""
from torch import nn

import common as C


class MlpVae(nn.Module):
    def __init__(s, features=784, hidden=400, latent=20):
        super().__init__()
        s.enc = C.mlp([features, hidden, 2 * latent])
        s.dec = C.mlp([latent, hidden, features])

    def loss(s, x):
        mu, ls = C.posterior(s.enc(x))
        logits = s.dec(C.rsample(mu, ls))
        return -(C.bernoulli_log_prob(logits, x) - C.kl_std_normal(mu, ls)).mean()


def main():
    C.fashion_twin(__doc__, "default", MlpVae)


if __name__ == "__main__":
    main()
