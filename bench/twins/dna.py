#!/usr/bin/python3
"""Twin of examples/dna/dna.toml: 1-D conv VAE with an autoregressive categorical decoder on 200-base
windows of D. melanogaster upstream sequences (data/dna/dm3_upstream2000.fa.gz).

Data: the FASTA records, a random 10% held out whole as the test set; training windows of 200 bases
every 200 bases, A C G T -> 0..3, any other base masked (unobserved; zeros in the encoder's one-hot);
the first --n windows (elbo: data.max_train = 60000, 2000 of them validation).
Encoder: one-hot [4, 200], conv1d k5 s2 p2 4 -> 32 -> 64 (200 -> 100 -> 50), ReLU after each, linear
64*50 -> 2*16. Decoder: linear 16 -> 64*50, ReLU; nearest upsampling to 100, conv1d k5 p2 64 -> 32,
ReLU; upsampling to 200, conv1d 32 -> 32: 32 features per position. Autoregressive head (context 5):
linear 32 -> 64 of the features plus a causal conv1d 4 -> 64 (k5, no bias) of the 5 preceding bases,
ReLU, linear 64 -> 64, ReLU, linear 64 -> 4 logits. Categorical likelihood over the observed bases,
N(0, I) prior, analytic KL with a linear warm-up over 2000 steps, one particle; loss the batch mean
of -ELBO; Adam lr 1e-3, batch 128 (elbo's nn::SequenceEncoder / SequenceDecoder / AutoregressiveSequence).

    /usr/bin/python3 bench/twins/dna.py [--n 58000] [--epochs 1] [--seed 1] [--eval-n 1000]
"""
import gzip
import os

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import common as C

FASTA = os.path.join(C.ROOT, "data", "dna", "dm3_upstream2000.fa.gz")
W, S, K = 200, 4, 5


def read_windows(seed, n_train, n_test):
    seqs, cur = [], []
    for line in gzip.open(FASTA, "rb"):
        if line.startswith(b">"):
            if cur:
                seqs.append(b"".join(cur))
            cur = []
        else:
            cur.append(line.strip())
    if cur:
        seqs.append(b"".join(cur))
    lut = np.full(256, -1, np.int64)
    for i, b in enumerate(b"ACGT"):
        lut[b] = lut[b + 32] = i
    order = np.random.default_rng(seed).permutation(len(seqs))
    held = int(0.1 * len(seqs))

    def windows(ids, limit):
        out = []
        for r in ids:
            codes = lut[np.frombuffer(seqs[r], np.uint8)]
            for s in range(0, len(codes) - W + 1, W):
                out.append(codes[s:s + W])
                if len(out) == limit:
                    return np.stack(out)
        return np.stack(out)
    tr, te = windows(order[held:], n_train), windows(order[:held], n_test)
    to = lambda a: (torch.from_numpy(np.maximum(a, 0)), torch.from_numpy((a >= 0).astype(np.float32)))
    return to(tr), to(te)


class DnaVae(nn.Module):
    def __init__(s, latent=16, ch=(32, 64), hidden=64):
        super().__init__()
        s.e1, s.e2 = nn.Conv1d(S, ch[0], 5, 2, 2), nn.Conv1d(ch[0], ch[1], 5, 2, 2)
        s.head = nn.Linear(ch[1] * 50, 2 * latent)
        s.stem = nn.Linear(latent, ch[1] * 50)
        s.d1, s.d2 = nn.Conv1d(ch[1], ch[0], 5, 1, 2), nn.Conv1d(ch[0], ch[0], 5, 1, 2)
        s.inp = nn.Linear(ch[0], hidden)
        s.causal = nn.Conv1d(S, hidden, K, bias=False)
        s.middle, s.out = nn.Linear(hidden, hidden), nn.Linear(hidden, S)
        s.ch = ch

    def loss(s, x, mask, beta=1.0):
        onehot = F.one_hot(x, S).float().transpose(1, 2)  # [B, 4, 200]
        h = F.relu(s.e2(F.relu(s.e1(onehot * mask.unsqueeze(1)))))
        mu, ls = C.posterior(s.head(h.flatten(1)))
        g = F.relu(s.stem(C.rsample(mu, ls))).view(-1, s.ch[1], 50)
        g = F.relu(s.d1(F.interpolate(g, size=100, mode="nearest")))
        feats = s.d2(F.interpolate(g, size=W, mode="nearest")).transpose(1, 2)  # [B, 200, 32]
        context = s.causal(F.pad(onehot, (K, 0)))[..., :W].transpose(1, 2)  # bases i-5 .. i-1
        logits = s.out(F.relu(s.middle(F.relu(s.inp(feats) + context))))
        rec = (logits.log_softmax(-1).gather(-1, x.unsqueeze(-1)).squeeze(-1) * mask).sum(-1)
        return -(rec - beta * C.kl_std_normal(mu, ls)).mean()


def main():
    ap = C.arguments(__doc__)
    ap.add_argument("--warmup-steps", type=int, default=2000)
    a = C.setup(ap)
    (xtr, mtr), (xte, mte) = read_windows(a.seed, a.n or 58000, a.eval_n)
    m = DnaVae()
    opt = torch.optim.Adam(m.parameters(), lr=a.lr)
    step = [0]

    def one(batch):
        beta = min(1.0, step[0] / a.warmup_steps) if a.warmup_steps else 1.0
        C.adam_step(opt, m.loss(*batch, beta))
        step[0] += 1
    rate = C.train(one, C.batches_of([xtr, mtr], a.batch_size), a.epochs)
    fl, _ = C.floor(m, lambda: m.loss(xtr[:a.batch_size], mtr[:a.batch_size]).backward(), a.batch_size, a.floor_steps)
    with torch.no_grad():
        test = -m.loss(xte, mte)
    C.emit("dna", rate, fl, test, train_examples=len(xtr))


if __name__ == "__main__":
    main()
