#!/usr/bin/python3
"""Twin of examples/multimodal/fashion.toml: product-of-experts multimodal VAE (Wu & Goodman 2018) on
Fashion-MNIST split into three modalities: the left and right halves of each image (28 x 14 pixels,
grey levels in [0, 1], Bernoulli likelihood) and the label (categorical, 10 classes).

Experts q_m(z | x_m): MLP 392 -> 400 -> 2*20 per half, one-hot label 10 -> 64 -> 2*20; their product
with the prior N(0, I) (precision-weighted means); decoders 20 -> 400 -> 392 (logits) per half and
20 -> 64 -> 10 for the label; ReLU. objective.subsets = true: the loss is the mean over the batch of
-ELBO of the joint posterior and of each modality's alone (4 bounds per row, each reconstructing the
modalities it reads, as elbo's masked likelihood); one particle, analytic KL; Adam lr 1e-3, batch 128.

Written as a PyTorch user would: each expert runs once per batch and the four products are formed
from its outputs, and a subset decodes only its own modalities. elbo (model::MultimodalVae) instead
stacks the four subsets as 4 x batch rows with masks and runs every expert and decoder on all of them,
so this twin does about half of elbo's matrix work; its floor is this twin's layers.

    /usr/bin/python3 bench/twins/multimodal.py [--n 55000] [--epochs 1] [--seed 1] [--eval-n 1000]
"""
import torch
from torch import nn
from torch.nn import functional as F

import common as C


class Mvae(nn.Module):
    def __init__(s, half=392, hidden=400, label_hidden=64, latent=20, classes=10):
        super().__init__()
        s.experts = nn.ModuleList([C.mlp([half, hidden, 2 * latent]), C.mlp([half, hidden, 2 * latent]),
                                   C.mlp([classes, label_hidden, 2 * latent])])
        s.decoders = nn.ModuleList([C.mlp([latent, hidden, half]), C.mlp([latent, hidden, half]),
                                    C.mlp([latent, label_hidden, classes])])
        s.classes = classes

    def bound(s, experts, subset, xs, y):
        # Product of the prior's expert (mean 0, log precision 0) and the subset's experts.
        log_t = torch.stack([torch.zeros_like(experts[0][1])] + [-2 * experts[m][1] for m in subset])
        means = torch.stack([torch.zeros_like(experts[0][0])] + [experts[m][0] for m in subset])
        log_total = torch.logsumexp(log_t, 0)
        mu = ((log_t - log_total).exp() * means).sum(0)
        ls = -0.5 * log_total
        z = C.rsample(mu, ls)
        rec = 0
        for m in subset:
            out = s.decoders[m](z)
            rec = rec + (C.bernoulli_log_prob(out, xs[m]) if m < 2 else -F.cross_entropy(out, y, reduction="none"))
        return rec - C.kl_std_normal(mu, ls)

    def loss(s, x, y):
        img = x.view(-1, 28, 28)
        xs = [img[:, :, :14].reshape(-1, 392), img[:, :, 14:].reshape(-1, 392)]
        inputs = xs + [F.one_hot(y, s.classes).float()]
        experts = [C.posterior(e(v)) for e, v in zip(s.experts, inputs)]
        bounds = [s.bound(experts, sub, xs, y) for sub in ([0, 1, 2], [0], [1], [2])]
        return -torch.stack(bounds).mean()


def main():
    a = C.setup(C.arguments(__doc__))
    xtr, ytr = C.fashion("train", a.n or 55000, labels=True)
    xte, yte = C.fashion("test", a.eval_n, labels=True)

    def joint_elbo(m):  # the joint posterior's ELBO
        img = xte.view(-1, 28, 28)
        xs = [img[:, :, :14].reshape(-1, 392), img[:, :, 14:].reshape(-1, 392)]
        ex = [C.posterior(e(v)) for e, v in zip(m.experts, xs + [F.one_hot(yte, 10).float()])]
        return m.bound(ex, [0, 1, 2], xs, yte).mean()
    C.train_and_emit("multimodal", Mvae(), [xtr, ytr], joint_elbo, a)


if __name__ == "__main__":
    main()
