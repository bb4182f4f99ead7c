"""Shared parts of the PyTorch eager twins in bench/twins/ (one script per model family of examples/).

A twin is the elbo example's model written as plain PyTorch eager code: the same layers, activations,
likelihood, posterior parameterization (log sigma = log 1e-4 + softplus(raw - log 1e-4), as elbo's
dist::posterior_from_raw), batch size, Adam learning rate and data. Each twin prints one JSON line

    {"family": ..., "train_examples_per_s": ..., "floor_examples_per_s": ..., "test_elbo": ..., ...}

train_examples_per_s: training examples / seconds of the training loop (batch preparation included,
the data's loading and the evaluation excluded), as elbo's metrics.jsonl "epoch" lines count them;
train_examples_per_s_window_median: the median of the rates of its windows of 10 steps (as elbo's
"step" lines with train.log_every = 10), which a burst of other load on the machine moves less.

floor_examples_per_s: the model's floor on this machine. During one training step forward hooks
record every Linear / Conv1d / Conv2d / ConvTranspose1d / ConvTranspose2d call (its input's shape and
whether the input needed a gradient); then those calls alone are timed on random tensors of those
shapes, forward + backward (grad weight and bias, and grad input where the model needs it), through
the same LibTorch/OpenBLAS kernels: batch size / the sum over the calls of each one's median seconds. A
transposed convolution is timed both as F.conv_transpose and as the data gradient of the convolution it
transposes (_ConvAdjoint), and the faster counts. Everything else
(activations, likelihood, KL, Adam, data) is left out: an implementation of the model that calls these
kernels cannot beat it, except by the autograd bookkeeping of the calls, which the floor includes (it
matters only for tiny layers such as wine's, where the floor is mostly per-call overhead).

Not run alone; bench/families.py runs the twins (each has its own docstring with its command line).
"""
import argparse, gzip, json, math, os, statistics, struct, time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FASHION = "/usr/share/datasets/fashion-mnist"
LOG_MIN_SCALE = math.log(1e-4)  # elbo's dist::kMinPosteriorScale
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d)


def arguments(doc, batch_size=128, lr=1e-3):
    """The options every twin takes (families.py passes the same numbers to elbo through --set)."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--n", type=int, default=0, help="training examples (0 = the twin's default)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=batch_size)
    ap.add_argument("--lr", type=float, default=lr)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--eval-n", type=int, default=1000, help="test examples of the test ELBO")
    ap.add_argument("--floor-steps", type=int, default=30, help="repetitions of the floor's layer calls")
    ap.add_argument("--threads", type=int, default=0,
                    help="LibTorch intra-op threads (0 = LibTorch's default; OpenBLAS keeps its own threads for "
                         "matrix products either way, as in elbo with train.threads = 0)")
    return ap


def setup(ap):
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    return a


def mlp(sizes, act=nn.ReLU):
    """Linear layers sizes[0] -> ... -> sizes[-1], act between them (none after the last): elbo's nn::Mlp."""
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(act())
    return nn.Sequential(*layers)


def read_idx(path):
    d = gzip.open(path).read()
    nd = d[3]
    shape = struct.unpack(">" + "I" * nd, d[4:4 + 4 * nd])
    return np.frombuffer(d, dtype=np.uint8, offset=4 + 4 * nd).reshape(shape)


def fashion(split, n=0, labels=False):
    """Fashion-MNIST images [N, 784] as float32 in [0, 1] (and int64 labels), the first n (0 = all)."""
    pre = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(FASHION, f"{pre}-images-idx3-ubyte.gz")).reshape(-1, 784)
    if n:
        x = x[:n]
    x = torch.from_numpy(x.astype(np.float32) / 255)
    if not labels:
        return x
    y = read_idx(os.path.join(FASHION, f"{pre}-labels-idx1-ubyte.gz"))[:len(x)]
    return x, torch.from_numpy(y.astype(np.int64))


def posterior(raw):
    """Mean and log scale of a diagonal normal from an encoder output [..., 2D], as elbo's posterior_from_raw."""
    mu, r = raw.chunk(2, -1)
    return mu, LOG_MIN_SCALE + F.softplus(r - LOG_MIN_SCALE)


def rsample(mu, log_scale):
    return mu + torch.randn_like(mu) * log_scale.exp()


def kl_std_normal(mu, log_scale):
    """KL(N(mu, sigma^2) || N(0, 1)) summed over the last axis."""
    return (0.5 * (mu.square() + (2 * log_scale).exp()) - log_scale - 0.5).sum(-1)


def normal_log_prob(x, mu, log_scale):
    return -0.5 * ((x - mu) * (-log_scale).exp()).square() - log_scale - HALF_LOG_2PI


def bernoulli_log_prob(logits, x):
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def train(step, batches, epochs, window=10):
    """Runs step(batch) for every batch of batches() (a fresh iterator per epoch), epochs times.
    Returns (examples/s over the whole loop, the examples/s of each window of `window` steps, an
    epoch's last steps closing a shorter one): batch preparation inside the iterator included, as
    elbo's metrics.jsonl "epoch" lines and its "step" lines with train.log_every = window."""
    examples, t0, rates = 0, time.perf_counter(), []
    for _ in range(epochs):
        w_ex, w_steps, w0 = 0, 0, time.perf_counter()
        for batch in batches():
            step(batch)
            n = len(batch[0]) if isinstance(batch, (tuple, list)) else len(batch)
            examples += n; w_ex += n; w_steps += 1
            if w_steps == window:
                t = time.perf_counter()
                rates.append(w_ex / (t - w0))
                w_ex, w_steps, w0 = 0, 0, t
        if w_steps:
            rates.append(w_ex / (time.perf_counter() - w0))
    return examples / (time.perf_counter() - t0), rates


def adam_step(opt, loss):
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


class _ConvAdjoint(torch.autograd.Function):
    """A transposed convolution computed as what it is, the data gradient of the convolution it transposes
    (as elbo's nn::conv_transpose2d): on CPU, LibTorch 1.13 runs F.conv_transpose2d on im2col + BLAS, and its
    convolution kernels (oneDNN) compute the same values several times faster."""

    @staticmethod
    def forward(ctx, x, w, m, out_shape):
        ctx.save_for_backward(x, w)
        ctx.m = m
        return torch.ops.aten.convolution_backward(x, torch.empty(out_shape), w, None, m.stride, m.padding,
                                                   m.dilation, False, [0] * len(m.stride), m.groups,
                                                   [True, False, False])[0]

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        m, g = ctx.m, g.contiguous()
        dx = torch.ops.aten.convolution(g, w, None, m.stride, m.padding, m.dilation, False, [0] * len(m.stride),
                                        m.groups)
        dw = torch.ops.aten.convolution_backward(x, g, w, None, m.stride, m.padding, m.dilation, False,
                                                 [0] * len(m.stride), m.groups, [False, True, False])[1]
        return dx, dw, None, None


def _calls(m, shape):
    """The module's own computation as functions of (input, weight, bias): one for a Linear or a convolution,
    two for a transposed convolution (F.conv_transpose and _ConvAdjoint, the floor takes the faster)."""
    if isinstance(m, nn.Linear):
        return [F.linear]
    if isinstance(m, (nn.Conv1d, nn.Conv2d)):
        return [m._conv_forward]
    fn = F.conv_transpose1d if isinstance(m, nn.ConvTranspose1d) else F.conv_transpose2d
    direct = lambda x, w, b: fn(x, w, b, m.stride, m.padding, m.output_padding, m.groups, m.dilation)
    out_shape = direct(torch.zeros(shape), m.weight.detach(), None).shape
    dims = [1] * (len(shape) - 2)
    adjoint = lambda x, w, b: _ConvAdjoint.apply(x, w, m, out_shape) + (0 if b is None else b.view(-1, *dims))
    return [direct, adjoint]


def floor(model, one_step, batch_size, steps=30):
    """Examples/s of the model's large products alone (module docstring). one_step() runs one
    training step's forward and backward (its Adam update, if any, is harmless here)."""
    calls = []
    hooks = [m.register_forward_hook(lambda m, inp, out: calls.append((m, tuple(inp[0].shape), inp[0].requires_grad)))
             for m in model.modules() if isinstance(m, LAYERS)]
    try:
        one_step()
    finally:
        for h in hooks:
            h.remove()
    def seconds(fn, x, w, b, g, wrt):
        """Median seconds of fn's forward + backward."""
        for _ in range(3):
            torch.autograd.grad(fn(x, w, b), wrt, g)
        times = []
        for _ in range(steps):
            t = time.perf_counter()
            torch.autograd.grad(fn(x, w, b), wrt, g)
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    total = 0.0
    for m, shape, needs_input_grad in calls:
        x = torch.randn(shape, requires_grad=needs_input_grad)
        w = m.weight.detach().clone().requires_grad_()
        b = m.bias.detach().clone().requires_grad_() if m.bias is not None else None
        wrt = [t for t in (x if needs_input_grad else None, w, b) if t is not None]
        fns = _calls(m, shape)
        g = torch.randn_like(fns[0](x, w, b).detach())
        total += min(seconds(fn, x, w, b, g, wrt) for fn in fns)
    return batch_size / total, [(type(m).__name__, list(s), r) for m, s, r in calls]


def emit(family, train, floor_rate, test_elbo, **extra):
    """train: what train() returned."""
    rate, windows = train
    out = {"family": family, "torch": torch.__version__, "threads": torch.get_num_threads(),
           "train_examples_per_s": round(rate, 1),
           "train_examples_per_s_window_median": round(statistics.median(windows), 1),
           "floor_examples_per_s": round(floor_rate, 1),
           "test_elbo": round(float(test_elbo), 3)}
    out.update(extra)
    print(json.dumps(out), flush=True)


def batches_of(tensors, batch_size, binarize=False):
    """A function returning an iterator over shuffled batches of the tensors (same rows of each);
    binarize: the first tensor's batch is drawn as Bernoulli(x) (dynamic binarization, a fresh draw per batch)."""
    n = len(tensors[0])

    def it():
        perm = torch.randperm(n)
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            parts = [t[idx] for t in tensors]
            if binarize:
                parts[0] = torch.bernoulli(parts[0])
            yield tuple(parts) if len(parts) > 1 else parts[0]
    return it


def fixed_binarization(x, seed=0):
    return torch.bernoulli(x, generator=torch.Generator().manual_seed(seed))


def train_and_emit(family, m, train_set, test, a, binarize=False, floor_steps=0, **extra):
    """The common twin run: Adam (a.lr) on m.loss over train_set (a tensor, or a list of tensors whose
    rows go together, passed to m.loss in that order) for a.epochs in batches of a.batch_size (the first
    tensor dynamically binarized when `binarize`), the floor of m's layers on one training batch (a
    fixed binarization; floor_steps repetitions, 0 = a.floor_steps), then the test ELBO: -m.loss on
    `test` (a tensor or list as train_set), or test(m) when it is a function; one JSON line with `extra`."""
    tensors = list(train_set) if isinstance(train_set, (list, tuple)) else [train_set]
    opt = torch.optim.Adam(m.parameters(), lr=a.lr)
    loss = (lambda b: m.loss(*b)) if len(tensors) > 1 else m.loss
    rate = train(lambda b: adam_step(opt, loss(b)), batches_of(tensors, a.batch_size, binarize=binarize), a.epochs)
    probe = [t[:a.batch_size] for t in tensors]
    if binarize:
        probe[0] = fixed_binarization(probe[0])
    fl, _ = floor(m, lambda: m.loss(*probe).backward(), a.batch_size, floor_steps or a.floor_steps)
    with torch.no_grad():
        if callable(test):
            value = test(m)
        else:
            value = -m.loss(*(test if isinstance(test, (list, tuple)) else [test]))
    emit(family, rate, fl, value, **extra)


def fashion_twin(doc, family, model, binarize=False):
    """A twin on Fashion-MNIST images alone: 55,000 training images (--n), the test ELBO on --eval-n test
    images (binarized once when training binarizes dynamically)."""
    a = setup(arguments(doc))
    xtr = fashion("train", a.n or 55000)
    xte = fashion("test", a.eval_n)
    train_and_emit(family, model(), xtr, fixed_binarization(xte) if binarize else xte, a, binarize=binarize)
