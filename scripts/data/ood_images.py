#!/usr/bin/python3
"""Out-of-distribution images for a Fashion-MNIST classifier, as gzip'ed IDX
files like Fashion-MNIST's own (magic 0x00000803, big-endian int32 dims
N, 28, 28, then uint8 pixels; gzip mtime 0, so the bytes are reproducible).

- OUT/digits-idx3-ubyte.gz: sklearn's 8x8 handwritten digits (load_digits,
  1797 images, intensities 0..16, Debian's python3-sklearn) scaled to 0..255,
  upscaled to 20x20 by bilinear interpolation (pixel centres aligned, edges
  clamped) and centred in 28x28 with a 4-pixel zero border, as MNIST pads its
  20x20 digits. Bright strokes on black, like Fashion-MNIST.
- OUT/noise-idx3-ubyte.gz: 2000 images of independent uniform uint8 noise
  0..255 (numpy default_rng(--seed)).

Usage: scripts/data/ood_images.py [--out data/ood] [--seed 0]
"""
import argparse, gzip, os, struct
import numpy as np
from sklearn.datasets import load_digits


def write_idx(path, a):
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write(struct.pack(">I", 0x0800 | a.ndim) + struct.pack(">" + "I" * a.ndim, *a.shape))
        f.write(np.ascontiguousarray(a, dtype=np.uint8).tobytes())


def bilinear(img, size):
    """(N, h, w) -> (N, size, size), sampling at pixel centres (edges clamped)."""
    h = img.shape[1]
    c = np.clip((np.arange(size) + 0.5) * h / size - 0.5, 0, h - 1)
    i0 = np.floor(c).astype(int); i1 = np.minimum(i0 + 1, h - 1); f = c - i0
    rows = img[:, i0, :] * (1 - f)[None, :, None] + img[:, i1, :] * f[None, :, None]
    return rows[:, :, i0] * (1 - f) + rows[:, :, i1] * f


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="data/ood")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    d = load_digits().images  # (1797, 8, 8), 0..16
    big = np.zeros((len(d), 28, 28))
    big[:, 4:24, 4:24] = bilinear(d * (255.0 / 16.0), 20)
    digits = np.clip(np.rint(big), 0, 255).astype(np.uint8)
    noise = np.random.default_rng(a.seed).integers(0, 256, (2000, 28, 28), dtype=np.uint8)
    write_idx(os.path.join(a.out, "digits-idx3-ubyte.gz"), digits)
    write_idx(os.path.join(a.out, "noise-idx3-ubyte.gz"), noise)
    print(f"ood: {a.out}/digits-idx3-ubyte.gz {digits.shape} (mean {digits.mean():.1f}), "
          f"noise-idx3-ubyte.gz {noise.shape} (mean {noise.mean():.1f})")


if __name__ == "__main__":
    main()
