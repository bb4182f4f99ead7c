#!/usr/bin/python3
"""Twin of examples/m2-semi-supervised: the M2 model (Kingma et al. 2014) on dynamically binarized
Fashion-MNIST with 100 labels.

Data: the training images, 100 of them labelled (10 per class, drawn at random), the labelled rows
repeated so that about a tenth of each batch is labelled (elbo's data.labelled_repeat = 0 rule:
round((n - 100) / 900) copies in all). q(y|x): MLP 784 -> 500 -> 10; q(z|x,y): MLP 784+10 -> 500 ->
2*50; p(x|z,y): MLP 50+10 -> 500 -> 784 Bernoulli logits; ReLU; p(y) uniform, p(z) = N(0, I).
Every row enumerates the 10 classes (encoder and decoder on 10 x batch rows), weighted by q(y|x)
(unlabelled) or the one-hot label (labelled); analytic KL of z, the entropy of q(y|x) for unlabelled
rows; plus alpha * N / 100 times the mean of log q(y|x) over the batch (0 on unlabelled rows), alpha = 3,
N the training rows (repeats included).
Loss: batch mean of -bound; Adam lr 1e-3, batch 128 (elbo's model::M2, objective::beta_elbo).

    /usr/bin/python3 bench/twins/m2.py [--n 55000] [--epochs 1] [--seed 1] [--eval-n 1000]
"""
import math

import torch
from torch import nn
from torch.nn import functional as F

import common as C

CLASSES = 10


class M2(nn.Module):
    def __init__(s, features=784, hidden=500, latent=50, alpha_n=3.0 * 55000):
        super().__init__()
        s.cls = C.mlp([features, hidden, CLASSES])
        s.enc = C.mlp([features + CLASSES, hidden, 2 * latent])
        s.dec = C.mlp([latent + CLASSES, hidden, features])
        s.alpha_n = alpha_n

    def loss(s, x, y, known):
        b = x.shape[0]
        log_q_y = s.cls(x).log_softmax(-1)  # [B, C]
        eye = torch.eye(CLASSES).unsqueeze(1).expand(CLASSES, b, CLASSES)  # [C, B, C]
        mu, ls = C.posterior(s.enc(torch.cat([x.expand(CLASSES, b, -1), eye], -1)))
        z = C.rsample(mu, ls)
        rec = C.bernoulli_log_prob(s.dec(torch.cat([z, eye], -1)), x.expand(CLASSES, b, -1))  # [C, B]
        per_class = rec - C.kl_std_normal(mu, ls) - math.log(CLASSES)
        w = torch.where(known.unsqueeze(1), F.one_hot(y, CLASSES).float(), log_q_y.exp())  # [B, C]
        entropy = -(w * log_q_y).sum(-1) * (~known)
        bound = (w * per_class.t()).sum(-1) + entropy
        label_log_q = log_q_y.gather(1, y.unsqueeze(1)).squeeze(1) * known
        return -bound.mean() - s.alpha_n * label_log_q.mean()


def main():
    a = C.setup(C.arguments(__doc__))
    x, y = C.fashion("train", a.n or 55000, labels=True)
    g = torch.Generator().manual_seed(a.seed)
    rows = torch.cat([(y == c).nonzero().squeeze(1)[torch.randperm(int((y == c).sum()), generator=g)[:10]]
                      for c in range(CLASSES)]).sort().values
    repeat = max(1, round((len(x) - len(rows)) / (9.0 * len(rows))))
    known = torch.zeros(len(x), dtype=torch.bool)
    known[rows] = True
    index = torch.cat([torch.arange(len(x))] + [rows] * (repeat - 1))
    xtr, ytr, ktr = x[index], y[index], torch.cat([known, torch.ones(len(index) - len(x), dtype=torch.bool)])
    xte = C.fixed_binarization(C.fashion("test", a.eval_n))
    m = M2(alpha_n=3.0 * len(xtr) / len(rows))  # objective.alpha * train_size / labelled, as elbo
    unlabelled = [xte, torch.zeros(len(xte), dtype=torch.long), torch.zeros(len(xte), dtype=torch.bool)]
    C.train_and_emit("m2", m, [xtr, ytr, ktr], unlabelled, a, binarize=True, train_examples=len(xtr))


if __name__ == "__main__":
    main()
