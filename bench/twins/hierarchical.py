#!/usr/bin/python3
"""Twin of examples/hierarchical: two-layer hierarchical VAE, mean-field posterior, on dynamically
binarized Fashion-MNIST.

q(z1, z2 | x): one MLP 784 -> 400 -> 2*(32+16) (means, then raw scales), split into z1 [32] and
z2 [16]. p(z2) = N(0, I); p(z1 | z2): MLP 16 -> 400 -> 2*32; p(x | z1): MLP 32 -> 400 -> 784
Bernoulli logits; ReLU. Monte Carlo KL (log q(z) - log p(z) at the sampled z, objective.kl = "mc"),
one particle; loss the batch mean of -ELBO; Adam lr 1e-3, batch 128 (elbo's model::HierarchicalVae).

    /usr/bin/python3 bench/twins/hierarchical.py [--n 55000] [--epochs 1] [--seed 1] [--eval-n 1000]
"""
import torch
from torch import nn

import common as C


class HierarchicalVae(nn.Module):
    def __init__(s, features=784, hidden=400, dims=(32, 16)):
        super().__init__()
        s.dims = dims
        s.enc = C.mlp([features, hidden, 2 * sum(dims)])
        s.down = C.mlp([dims[1], hidden, 2 * dims[0]])
        s.dec = C.mlp([dims[0], hidden, features])

    def loss(s, x):
        mu, ls = C.posterior(s.enc(x))
        z = C.rsample(mu, ls)
        log_q = C.normal_log_prob(z, mu, ls)
        z1, z2 = z.split(s.dims, -1)
        q1, q2 = log_q.split(s.dims, -1)
        p_mu, p_ls = C.posterior(s.down(z2))
        log_p1 = C.normal_log_prob(z1, p_mu, p_ls)
        log_p2 = C.normal_log_prob(z2, torch.zeros_like(z2), torch.zeros_like(z2))
        kl = (q1 - log_p1).sum(-1) + (q2 - log_p2).sum(-1)
        return -(C.bernoulli_log_prob(s.dec(z1), x) - kl).mean()


def main():
    C.fashion_twin(__doc__, "hierarchical", HierarchicalVae, binarize=True)


if __name__ == "__main__":
    main()
