#!/usr/bin/python3
"""Writes tests/data/dist_reference.csv: reference log_prob / entropy / mean / KL
values for elbo::dist, computed in float64 with torch.distributions and
scipy.stats (Debian's python3-torch and python3-scipy), and with mpmath at 50
digits for the Continuous Bernoulli normalizer where torch loses precision.

Run: /usr/bin/python3 scripts/generate_dist_reference.py

Row format: dist,quantity,q_params,p_params,x,value
  params are space-separated numbers (Normal/Laplace: loc log_scale;
  Bernoulli/ContinuousBernoulli: logit; Poisson: log_rate; Categorical: C logits);
  p_params only for kl; x only for log_prob.
"""
import math
import os

import mpmath
import scipy.stats as st
import torch
import torch.distributions as td

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                   "dist_reference.csv")
rows = []


def num(v):
    return repr(float(v))


def add(dist, quantity, q, value, p=(), x=None):
    rows.append(",".join([dist, quantity, " ".join(num(a) for a in q), " ".join(num(a) for a in p),
                          "" if x is None else num(x), num(value)]))


def agree(a, b, tol=1e-12):
    assert abs(a - b) <= tol * (1 + abs(b)), (a, b)


T = torch.tensor
loc_scale = [(0.0, 0.0), (0.3, -0.7), (-2.5, 1.2), (4.0, -3.0)]
points = [-3.0, -0.4, 0.0, 0.25, 2.0, 7.5]

# Normal and Laplace: torch.distributions, cross-checked against scipy.stats.
for name, cls, ref in [("Normal", td.Normal, st.norm), ("Laplace", td.Laplace, st.laplace)]:
    for m, ls in loc_scale:
        d = cls(T(m), T(ls).exp())
        for x in points:
            v = d.log_prob(T(x)).item()
            agree(v, ref.logpdf(x, m, math.exp(ls)))
            add(name, "log_prob", (m, ls), v, x=x)
        agree(d.entropy().item(), ref.entropy(m, math.exp(ls)))
        add(name, "entropy", (m, ls), d.entropy().item())
    for (m1, l1) in loc_scale:
        for (m2, l2) in loc_scale:
            kl = td.kl_divergence(cls(T(m1), T(l1).exp()), cls(T(m2), T(l2).exp())).item()
            add(name, "kl", (m1, l1), kl, p=(m2, l2))

# Bernoulli: log_prob is -BCE-with-logits, also for x in (0, 1) (validate_args off).
# Entropy and KL near saturated logits: torch clamps probs and its softplus
# switches to x above 20, so those use mpmath (50 digits), cross-checked with torch.
mpmath.mp.dps = 50


def bern_logs(l):
    l = mpmath.mpf(l)
    return -mpmath.log1p(mpmath.exp(-l)), -mpmath.log1p(mpmath.exp(l))  # log p, log(1-p)


logits = [-30.0, -4.0, -0.5, 0.0, 1e-3, 2.0, 25.0]
for l in logits:
    d = td.Bernoulli(logits=T(l), validate_args=False)
    for x in [0.0, 1.0, 0.3]:
        add("Bernoulli", "log_prob", (l,), d.log_prob(T(x)).item(), x=x)
    lp, lq = bern_logs(l)
    h = -(mpmath.exp(lp) * lp + mpmath.exp(lq) * lq)
    agree(d.entropy().item(), float(h), 1e-6)
    add("Bernoulli", "entropy", (l,), float(h))
    for l2 in logits:
        lp2, lq2 = bern_logs(l2)
        kl = mpmath.exp(lp) * (lp - lp2) + mpmath.exp(lq) * (lq - lq2)
        agree(td.kl_divergence(d, td.Bernoulli(logits=T(l2))).item(), float(kl), 1e-9)
        add("Bernoulli", "kl", (l,), float(kl), p=(l2,))

# Continuous Bernoulli: torch.distributions works from probs = sigmoid(l), which
# rounds to 1 for l >~ 37, so extreme logits use mpmath's closed forms instead.


def cb_log_norm(l):
    l = mpmath.mpf(l)
    return mpmath.log(2) if l == 0 else mpmath.log(l / mpmath.tanh(l / 2))


def cb_mean(l):
    l = mpmath.mpf(l)
    return mpmath.mpf(1) / 2 if l == 0 else 1 / (1 - mpmath.exp(-l)) - 1 / l


for l in [-50.0, -5.0, -0.7, -0.019, -1e-3, 0.0, 1e-4, 0.015, 0.02, 0.3, 5.0, 50.0]:
    logc, mean = cb_log_norm(l), cb_mean(l)
    softplus = mpmath.log(1 + mpmath.exp(l))
    entropy = -(l * mean - softplus + logc)
    if abs(l) <= 5:
        d = td.ContinuousBernoulli(logits=T(l))
        agree(d.mean.item(), float(mean), 1e-9)
        agree(d.entropy().item(), float(entropy), 1e-9)
    for x in [0.0, 0.1, 0.5, 0.93, 1.0]:
        v = logc + l * mpmath.mpf(x) - softplus
        if abs(l) <= 5:
            agree(td.ContinuousBernoulli(logits=T(l)).log_prob(T(x)).item(), float(v), 1e-9)
        add("ContinuousBernoulli", "log_prob", (l,), float(v), x=x)
    add("ContinuousBernoulli", "entropy", (l,), float(entropy))
    add("ContinuousBernoulli", "mean", (l,), float(mean))

# Categorical over C = 4 classes.
cat_logits = [(0.0, 0.0, 0.0, 0.0), (1.0, -2.0, 0.5, 3.0), (-10.0, 4.0, 4.0, 0.1), (20.0, 0.0, -20.0, 5.0)]
for ls in cat_logits:
    d = td.Categorical(logits=T(ls))
    for x in range(4):
        add("Categorical", "log_prob", ls, d.log_prob(T(x)).item(), x=x)
    add("Categorical", "entropy", ls, d.entropy().item())
    for ls2 in cat_logits:
        add("Categorical", "kl", ls, td.kl_divergence(d, td.Categorical(logits=T(ls2))).item(), p=ls2)

# Poisson: torch.distributions, cross-checked against scipy.stats.poisson.
for r in [-3.0, 0.0, 1.5, 4.0]:
    d = td.Poisson(T(r).exp())
    for x in [0.0, 1.0, 3.0, 17.0, 60.0]:
        v = d.log_prob(T(x)).item()
        agree(v, st.poisson.logpmf(x, math.exp(r)), 1e-10)
        add("Poisson", "log_prob", (r,), v, x=x)

with open(OUT, "w", encoding="utf-8") as f:
    f.write("# @generated by scripts/generate_dist_reference.py — do not edit\n")
    f.write("dist,quantity,q_params,p_params,x,value\n")
    f.write("\n".join(rows) + "\n")
print(f"wrote {len(rows)} rows to {os.path.normpath(OUT)}")
