#!/usr/bin/python3
"""Twin of examples/conv-fashion-mnist: conv VAE on dynamically binarized Fashion-MNIST.

Encoder: conv 4x4 stride 2 padding 1, 1 -> 32 -> 64 channels (28 -> 14 -> 7), ReLU after each, flatten,
ReLU, linear 64*7*7 -> 2*32. Decoder: linear 32 -> 64*7*7, ReLU, deconv 4x4 s2 p1 64 -> 32, ReLU,
deconv 32 -> 1 (logits). Bernoulli likelihood, N(0, I) prior, analytic KL, one particle; loss the
batch mean of -ELBO; Adam lr 1e-3, batch 128 (elbo's nn::ConvEncoder / nn::ConvDecoder, model::Vae).

    /usr/bin/python3 bench/twins/conv_vae.py [--n 54000] [--epochs 1] [--seed 1] [--eval-n 1000]
"""
from torch import nn
from torch.nn import functional as F

import common as C


class ConvVae(nn.Module):
    def __init__(s, latent=32, ch=(32, 64)):
        super().__init__()
        s.c1 = nn.Conv2d(1, ch[0], 4, 2, 1); s.c2 = nn.Conv2d(ch[0], ch[1], 4, 2, 1)
        s.head = nn.Linear(ch[1] * 49, 2 * latent)
        s.stem = nn.Linear(latent, ch[1] * 49)
        s.d1 = nn.ConvTranspose2d(ch[1], ch[0], 4, 2, 1); s.d2 = nn.ConvTranspose2d(ch[0], 1, 4, 2, 1)
        s.ch = ch

    def loss(s, x):
        h = F.relu(s.c2(F.relu(s.c1(x.view(-1, 1, 28, 28)))))
        mu, ls = C.posterior(s.head(F.relu(h.flatten(1))))
        z = C.rsample(mu, ls)
        g = F.relu(s.stem(z)).view(-1, s.ch[1], 7, 7)
        logits = s.d2(F.relu(s.d1(g))).flatten(1)
        elbo = C.bernoulli_log_prob(logits, x) - C.kl_std_normal(mu, ls)
        return -elbo.mean()


def main():
    C.fashion_twin(__doc__, "conv", ConvVae, binarize=True)


if __name__ == "__main__":
    main()
