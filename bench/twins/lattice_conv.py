#!/usr/bin/python3
"""Twin of examples/lattice-rg/gff-conv.toml: conv VAE with circular padding on 16 x 16 periodic
Gaussian free field configurations (mass 0.1), Gaussian likelihood with one learned scale.

Data: phi = ifft2(sqrt(S) fft2(W)), W white noise, S(k) = 1 / (m^2 + 4 sin^2(kx/2) + 4 sin^2(ky/2))
(elbo's data/lattice.h); 20000 training configurations of which 2000 validation (not used here).
Encoder: conv 4x4 stride 2 padding 1 circular, 1 -> 32 -> 64 (16 -> 8 -> 4), ReLU after each, flatten,
ReLU, linear 64*4*4 -> 2*16. Decoder: linear 16 -> 64*4*4, ReLU, then two circular transposed convs
4x4 stride 2 (the input padded by one cell circularly, the full output cut to 2H x 2W, as elbo's
nn::circular_conv_transpose2d) 64 -> 32, ReLU, 32 -> 1 (means). Gaussian likelihood, shared learned
log scale (initially 0), N(0, I) prior, analytic KL, one particle; loss the batch mean of -ELBO;
Adam lr 1e-3, batch 128.

    /usr/bin/python3 bench/twins/lattice_conv.py [--n 18000] [--epochs 1] [--seed 1] [--eval-n 1000]
"""
import math

import torch
from torch import nn
from torch.nn import functional as F

import common as C

L, MASS = 16, 0.1


def gff(n, generator):
    k = 2 * math.pi * torch.arange(L, dtype=torch.float64) / L
    s = 1 / (MASS ** 2 + 4 * torch.sin(k[:, None] / 2) ** 2 + 4 * torch.sin(k[None, :] / 2) ** 2)
    w = torch.randn(n, L, L, dtype=torch.float64, generator=generator)
    return torch.fft.ifft2(s.sqrt() * torch.fft.fft2(w)).real.float().reshape(n, L * L)


class CircularDeconv(nn.Module):
    """Transposed conv 4x4 stride 2 on the torus: pad one cell circularly, convolve, cut 2H x 2W."""
    def __init__(s, cin, cout):
        super().__init__()
        s.conv = nn.ConvTranspose2d(cin, cout, 4, 2, 0)

    def forward(s, x):
        h, w = x.shape[-2:]
        full = s.conv(F.pad(x, (1, 1, 1, 1), mode="circular"))
        return full[..., 3:3 + 2 * h, 3:3 + 2 * w]


class LatticeVae(nn.Module):
    def __init__(s, latent=16, ch=(32, 64)):
        super().__init__()
        s.c1 = nn.Conv2d(1, ch[0], 4, 2, 1, padding_mode="circular")
        s.c2 = nn.Conv2d(ch[0], ch[1], 4, 2, 1, padding_mode="circular")
        s.head = nn.Linear(ch[1] * 16, 2 * latent)
        s.stem = nn.Linear(latent, ch[1] * 16)
        s.d1, s.d2 = CircularDeconv(ch[1], ch[0]), CircularDeconv(ch[0], 1)
        s.log_scale = nn.Parameter(torch.zeros(1))
        s.ch = ch

    def loss(s, x):
        h = F.relu(s.c2(F.relu(s.c1(x.view(-1, 1, L, L)))))
        mu, ls = C.posterior(s.head(F.relu(h.flatten(1))))
        g = F.relu(s.stem(C.rsample(mu, ls))).view(-1, s.ch[1], 4, 4)
        mean = s.d2(F.relu(s.d1(g))).flatten(1)
        rec = C.normal_log_prob(x, mean, s.log_scale.expand_as(mean)).sum(-1)
        return -(rec - C.kl_std_normal(mu, ls)).mean()


def main():
    a = C.setup(C.arguments(__doc__))
    xtr = gff(a.n or 18000, torch.Generator().manual_seed(0))
    xte = gff(a.eval_n, torch.Generator().manual_seed(1))
    m = LatticeVae()
    C.train_and_emit("lattice", m, xtr, xte, a)


if __name__ == "__main__":
    main()
