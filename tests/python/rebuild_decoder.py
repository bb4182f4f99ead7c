"""Rebuilds an elbo run's MLP decoder in plain PyTorch from `elbo export --format state_dict`
(FILE and FILE.json) and checks it against elbo's own outputs.

usage: rebuild_decoder.py STATE_DICT LATENTS_CSV RECONSTRUCTIONS_CSV CHECKPOINT

LATENTS_CSV is `elbo encode RUN --out` (posterior means mu1.. and scales), RECONSTRUCTIONS_CSV is
`elbo reconstruct RUN --out FILE.csv` of the same examples: elbo's decoder means at those means.
The checkpoint is read too, as docs/CHECKPOINT.md says: its model/ entries are the same tensors.
Exits non-zero naming the first mismatch."""
import csv
import json
import os
import sys
import zlib

import torch


def fail(message):
    print("FAIL " + message)
    sys.exit(1)


def read_csv(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], torch.tensor([[float(v) for v in row] for row in rows[1:]], dtype=torch.float64)


state_path, latents_path, reconstructions_path, checkpoint_path = sys.argv[1:5]
state = torch.load(state_path)
if type(state) is not dict:
    fail(f"torch.load gave {type(state).__name__}, expected a plain dict")
if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
    fail("the state dict must map str to Tensor")
meta = json.load(open(os.path.splitext(state_path)[0] + ".json"))
if meta["format"] != "elbo-state-dict-1":
    fail(f"format {meta['format']}")
if sorted(meta["tensors"]) != sorted(state):
    fail(f"the JSON's tensors {sorted(meta['tensors'])} are not the state dict's {sorted(state)}")
for name, t in state.items():
    if list(t.shape) != meta["tensors"][name]["shape"] or str(t.dtype) != "torch." + meta["tensors"][name]["dtype"]:
        fail(f"{name}: {list(t.shape)} {t.dtype} against the JSON's {meta['tensors'][name]}")

# The decoder, from the config alone: Linear layers latent_dim -> reversed(model.hidden) -> features.
model = meta["config"]["model"]
if model["decoder"] != "mlp" or model["likelihood"] != "bernoulli" or model.get("conditional"):
    fail(f"this test rebuilds an unconditional MLP decoder with a Bernoulli likelihood, got {model}")
widths = [model["latent_dim"]] + list(reversed(model["hidden"])) + [meta["features"]]
activations = {"relu": torch.nn.ReLU(), "elu": torch.nn.ELU(), "tanh": torch.nn.Tanh(), "softplus": torch.nn.Softplus(),
               "leaky_relu": torch.nn.LeakyReLU(0.01)}
layers = []
for i in range(len(widths) - 1):
    layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
    if i < len(widths) - 2:
        layers.append(activations[model["activation"]])
decoder = torch.nn.Sequential(*layers)
linear = [m for m in decoder if isinstance(m, torch.nn.Linear)]
decoder.load_state_dict({f"{2 * i}.{p}": state[f"decoder.layer{i}.{p}"] for i in range(len(linear)) for p in ("weight", "bias")})
if len([k for k in state if k.startswith("decoder.")]) != 2 * len(linear):
    fail(f"the state dict has decoder tensors beyond {len(linear)} linear layers: {[k for k in state if k.startswith('decoder.')]}")

header, latents = read_csv(latents_path)
d = model["latent_dim"]
if header[:d] != [f"mu{j + 1}" for j in range(d)]:
    fail(f"latents header {header}")
_, expected = read_csv(reconstructions_path)
with torch.no_grad():
    got = torch.sigmoid(decoder(latents[:, :d].float())).double()
if got.shape != expected.shape:
    fail(f"decoded {list(got.shape)}, elbo reconstruct wrote {list(expected.shape)}")
error = (got - expected).abs().max().item()
# elbo writes 8 significant digits; float32 matrix products in another order differ by ~1e-7.
if error > 2e-6:
    fail(f"decoded batch differs from elbo reconstruct by {error:.3g}")
if expected.std().item() < 1e-3:
    fail("elbo's reconstructions are constant: the comparison would prove nothing")

# The checkpoint (docs/CHECKPOINT.md): a TorchScript archive whose entries are attributes.
archive = torch.jit.load(checkpoint_path)
entries = {name: t for name, t in archive.named_buffers()}
if entries["format"].item() != 2:
    fail(f"checkpoint format {entries['format']}")
for name, t in state.items():
    if not torch.equal(entries["model/" + name], t):
        fail(f"checkpoint entry model/{name} differs from the export's {name}")
crc = 0  # CRC-32 of every other entry's name and bytes, in name order
for name in sorted(entries):
    if name != "checksum":
        crc = zlib.crc32(entries[name].contiguous().numpy().tobytes(), zlib.crc32(name.encode(), crc))
if crc != entries["checksum"].item():
    fail(f"checksum {entries['checksum'].item()} is not the CRC-32 docs/CHECKPOINT.md describes ({crc})")
info = entries["info"].tolist()
if info[3:] != [meta["features"]] + meta["image"] or info[0] != meta["step"]:
    fail(f"info block {info} against the export's {meta['step']}, {meta['features']}, {meta['image']}")
if bytes(entries["config"].numpy()).decode().find("hidden = [") < 0:
    fail("the config entry holds no TOML")
print(f"ok   {len(state)} tensors; decoder {'-'.join(map(str, widths))} rebuilt in PyTorch matches elbo reconstruct "
      f"on {len(expected)} examples (max |difference| {error:.2g}); checkpoint entries and CRC-32 as documented")
