"""Cross-check of this project's APGD-CE, APGD-T, FAB-T and Square against a peer implementation
(torchattacks, Kim 2020, from its public source) on identical weights and images.

Loads a TensorFlow.js LayersModel (model.json + weight shards) of the project's reference layer
types (Conv2D, MaxPooling2D, Flatten, Dense, Dropout, Activation) into PyTorch, checks that its
outputs equal the project's own (`gccs latent --json`) on the same test images, runs the peer's
attacks with AutoAttack's "standard" settings, runs ours through `gccs attack --json`, and prints
one table, with the samples that only one side broke. `autoattack` is the standard version as a
cascade on both sides: the peer's four attacks above, each on the images the earlier ones left
(torchattacks' own AutoAttack class runs 10 steps, not AutoAttack's 100), against
`gccs evaluate --preset autoattack` (whose time also covers its paper-protocol FGSM, PGD-5 and
TGSM-5; its cascade's outcome is compared). The project's L∞ ε is relative (‖n‖∞ ≤ ε·‖x‖∞);
the peer takes an absolute ε, so each image gets its own ε·‖x‖∞ there too (MNIST digits have
‖x‖∞ = 1 or 254/255; images are attacked in groups of equal ‖x‖∞).

torchattacks is not a dependency: fetch its source (github.com/Harry24k/adversarial-attacks-pytorch)
and pass the folder that holds `torchattacks/` with --torchattacks. Its package __init__ imports
attacks that need SciPy, so only the four modules used here are loaded.

Run with Debian's PyTorch (/usr/bin/python3, torch 1.13), from the repository root after
`npm run build`:
  /usr/bin/python3 bench/peer_check.py --torchattacks /tmp/ta --model models/mnist-ce \
      --data /work/shared/data/mnist-t10k --start 8000 --count 1000 --eps 0.1
"""
import argparse
import base64
import gzip
import importlib.util
import json
import os
import subprocess
import sys
import time
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# --- TensorFlow.js LayersModel → PyTorch -------------------------------------------------------

class NhwcFlatten(nn.Module):
    """Keras flattens channels-last: NCHW → NHWC before flattening keeps the Dense weights' order."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1) if x.dim() == 4 else x.reshape(x.shape[0], -1)


ACTIVATIONS = {'linear': None, 'relu': nn.ReLU, 'sigmoid': nn.Sigmoid, 'tanh': nn.Tanh, 'softmax': lambda: nn.Softmax(dim=1)}


def activation(name):
    if name not in ACTIVATIONS:
        raise SystemExit(f'unsupported activation {name!r}')
    return [ACTIVATIONS[name]()] if ACTIVATIONS[name] else []


def read_weights(folder, manifest):
    weights = {}
    for group in manifest:
        data = b''.join(open(os.path.join(folder, path), 'rb').read() for path in group['paths'])
        offset = 0
        for spec in group['weights']:
            if spec['dtype'] != 'float32':
                raise SystemExit(f"{spec['name']}: dtype {spec['dtype']} is not supported")
            count = int(np.prod(spec['shape'])) if spec['shape'] else 1
            weights[spec['name']] = np.frombuffer(data, '<f4', count, offset).reshape(spec['shape'])
            offset += 4 * count
    return weights


def valid_padding(config):
    if config.get('padding', 'valid') != 'valid':
        raise SystemExit(f"{config['name']}: padding {config['padding']!r} is not supported (the reference models use valid)")


def load_layers_model(folder):
    """A torch.nn.Sequential equal to the LayersModel in `folder`, taking NCHW images."""
    model_json = json.load(open(os.path.join(folder, 'model.json')))
    topology = model_json['modelTopology']
    config = topology.get('model_config', topology)['config']
    layers = config['layers'] if isinstance(config, dict) else config
    weights = read_weights(folder, model_json['weightsManifest'])
    modules = []
    for layer in layers:
        kind, c = layer['class_name'], layer['config']
        name = c['name']
        if kind == 'InputLayer' or kind == 'Dropout':
            continue
        if kind == 'Conv2D':
            valid_padding(c)
            kernel = weights[f'{name}/kernel']  # HWIO
            conv = nn.Conv2d(kernel.shape[2], kernel.shape[3], tuple(c['kernel_size']), stride=tuple(c['strides']),
                             dilation=tuple(c.get('dilation_rate', [1, 1])), bias=c.get('use_bias', True))
            conv.weight.data = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
            if conv.bias is not None:
                conv.bias.data = torch.from_numpy(weights[f'{name}/bias'].copy())
            modules += [conv, *activation(c.get('activation', 'linear'))]
        elif kind == 'MaxPooling2D':
            valid_padding(c)
            modules.append(nn.MaxPool2d(tuple(c['pool_size']), stride=tuple(c.get('strides') or c['pool_size'])))
        elif kind == 'Flatten':
            modules.append(NhwcFlatten())
        elif kind == 'Dense':
            kernel = weights[f'{name}/kernel']  # [in, out]
            dense = nn.Linear(kernel.shape[0], kernel.shape[1], bias=c.get('use_bias', True))
            dense.weight.data = torch.from_numpy(kernel.T.copy())
            if dense.bias is not None:
                dense.bias.data = torch.from_numpy(weights[f'{name}/bias'].copy())
            modules += [dense, *activation(c.get('activation', 'linear'))]
        elif kind == 'Activation':
            modules += activation(c['activation'])
        else:
            raise SystemExit(f'{folder}: layer type {kind} is not supported by this loader')
    return nn.Sequential(*modules).eval()


# --- data ----------------------------------------------------------------------------------------

def read_idx(path):
    data = gzip.open(path, 'rb').read() if path.endswith('.gz') else open(path, 'rb').read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def mnist(folder, start, count):
    images = read_idx(os.path.join(folder, 't10k-images-idx3-ubyte.gz'))[start:start + count]
    labels = read_idx(os.path.join(folder, 't10k-labels-idx1-ubyte.gz'))[start:start + count]
    x = torch.from_numpy(images.astype(np.float32) / 255).unsqueeze(1)  # NCHW
    return x, torch.from_numpy(labels.astype(np.int64))


# --- the two implementations ---------------------------------------------------------------------

PEER_MODULES = ('attacks.apgd', 'attacks.apgdt', 'attacks.fab', 'attacks.square')


def load_peer(root, modules=PEER_MODULES):
    """torchattacks' Attack base and the attack modules named, without its package __init__."""
    for package in ('torchattacks', 'torchattacks.attacks'):
        module = types.ModuleType(package)
        module.__path__ = [os.path.join(root, *package.split('.'))]
        sys.modules[package] = module
    loaded = {}
    for name in ('attack', *modules):
        full = f'torchattacks.{name}'
        spec = importlib.util.spec_from_file_location(full, os.path.join(root, 'torchattacks', *name.split('.')) + '.py')
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        spec.loader.exec_module(module)
        loaded[name] = module
    return loaded


def peer_attack(peer, name, model, eps, classes):
    # AutoAttack's "standard" settings: 100 iterations, 1 restart, 9 targets (FAB: α_max 0.1, η 1.05, β 0.9), 5000 queries.
    if name == 'apgd-ce':
        return peer['attacks.apgd'].APGD(model, norm='Linf', eps=eps, steps=100, n_restarts=1, loss='ce', seed=0)
    if name == 'apgd-t':
        return peer['attacks.apgdt'].APGDT(model, norm='Linf', eps=eps, steps=100, n_restarts=1, n_classes=classes, seed=0)
    if name == 'fab-t':
        # multi_targeted: the classes ranked 2nd … n_classes-th by clean output, one after the other.
        return peer['attacks.fab'].FAB(model, norm='Linf', eps=eps, steps=100, n_restarts=1, alpha_max=0.1, eta=1.05, beta=0.9,
                                       seed=0, multi_targeted=True, n_classes=classes)
    if name == 'square':
        return peer['attacks.square'].Square(model, norm='Linf', eps=eps, n_queries=5000, n_restarts=1, p_init=0.8, seed=0)
    raise SystemExit(f'unknown attack {name}')


# AutoAttack's standard version: each attack only on the images the earlier ones left.
AUTOATTACK = ('apgd-ce', 'apgd-t', 'fab-t', 'square')


def attack_peer(peer, name, model, x, y, eps, classes, batch, among):
    """Which of the images `among` (a mask) stay classified correctly under the peer's attack, with
    our budget: each image gets ε·‖x‖∞ (the peer takes one ε per call, so images are attacked in
    groups of equal ‖x‖∞)."""
    robust = torch.zeros(len(y), dtype=torch.bool)
    peaks = x.amax(dim=(1, 2, 3))
    for peak in torch.unique(peaks[among]).tolist():
        group = ((peaks == peak) & among).nonzero().flatten()
        budget = eps * peak
        attack = peer_attack(peer, name, model, budget, classes)
        for i in range(0, len(group), batch):
            index = group[i:i + batch]
            xb, yb = x[index], y[index]
            adversarial = attack(xb, yb)
            assert (adversarial - xb).abs().max().item() <= budget + 1e-6 and adversarial.min() >= 0 and adversarial.max() <= 1
            with torch.no_grad():
                robust[index] = model(adversarial).argmax(1) == yb
    return robust


def run_peer(peer, name, model, x, y, eps, classes, batch):
    """The peer's accuracy, which samples stayed classified correctly, and the seconds: one attack
    on every image, or for `autoattack` the cascade, starting from the images classified correctly."""
    started = time.perf_counter()
    if name == 'autoattack':
        with torch.no_grad():
            robust = model(x).argmax(1) == y
        for stage in AUTOATTACK:
            robust = attack_peer(peer, stage, model, x, y, eps, classes, batch, robust)
    else:
        robust = attack_peer(peer, name, model, x, y, eps, classes, batch, torch.ones(len(y), dtype=torch.bool))
    return robust.float().mean().item(), robust.numpy(), time.perf_counter() - started


def gccs(args, *flags):
    command = ['node', args.cli, *flags, '--json']
    for attempt in range(2):  # once more if a worker failed to start (e.g. dist/ rebuilt meanwhile)
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode == 0:
            return json.loads(result.stdout.strip().splitlines()[-1])
        print(f"{' '.join(command)} failed:\n{result.stderr}", flush=True)
    raise SystemExit(1)


def robust_bits(encoded, count):
    """Our per-sample outcomes: base64 bitset, bit i of byte i // 8 is sample i (README › Robustness sweeps › Results)."""
    return np.unpackbits(np.frombuffer(base64.b64decode(encoded), np.uint8), bitorder='little')[:count].astype(bool)


def run_ours(args, name, eps):
    started = time.perf_counter()
    if name == 'autoattack':
        out = gccs(args, 'evaluate', '--model', args.model, '--preset', 'autoattack', '--eps', str(eps), '--count', str(args.count),
                   '--skip-probes', '--seed', str(args.seed))
        # The cascade's last attack holds its outcome (a sample an earlier attack broke is not attacked again).
        [point] = out['eps']
        cascade = [run for run in point['runs'] if run['protocol'] != 'paper']
        assert [run['name'] for run in cascade] == list(AUTOATTACK), [run['name'] for run in cascade]
        robust = robust_bits(cascade[-1]['robust'], args.count)
        return robust.mean(), robust, time.perf_counter() - started
    out = gccs(args, 'attack', '--model', args.model, '--attack', name, '--eps', str(eps), '--count', str(args.count),
               '--workers', str(args.workers), '--seed', str(args.seed))
    [result] = out['results']
    return result['accuracy'], robust_bits(result['robust'], args.count), time.perf_counter() - started


def check_loader(args, model, x, y):
    """Our outputs (gccs latent) on the model's own test split must be PyTorch's on images start…start+count."""
    ours = gccs(args, 'latent', '--model', args.model, '--count', str(args.count))
    z_ours = np.array([sample['z'] for sample in ours['samples']], dtype=np.float32)
    labels_ours = np.array([sample['label'] for sample in ours['samples']])
    with torch.no_grad():
        z_torch = model(x).numpy()
    if not np.array_equal(labels_ours, y.numpy()):
        raise SystemExit('the model\'s test split is not images start…start+count in order (labels differ)')
    diff = np.abs(z_ours - z_torch).max()
    scale = np.abs(z_ours).max()
    same_prediction = (z_ours.argmax(1) == z_torch.argmax(1)).mean()
    print(f'loader check: max |z_ours − z_torch| = {diff:.2e} (max |z| = {scale:.1f}), same prediction on {same_prediction:.2%}; '
          f'clean accuracy ours {(z_ours.argmax(1) == y.numpy()).mean():.2%}, torch {(z_torch.argmax(1) == y.numpy()).mean():.2%}')
    if diff > 1e-3 * max(scale, 1) or same_prediction < 1:
        raise SystemExit('the PyTorch model does not reproduce the LayersModel')
    peaks = x.amax(dim=(1, 2, 3))
    if (peaks > 1).any():
        raise SystemExit('an image has ‖x‖∞ > 1: our relative budget would exceed the peer\'s')
    print(f'‖x‖∞ = 1 on {(peaks == 1).float().mean():.2%} of the images (smallest {peaks.min():.3f}); the peer gets each image\'s ε·‖x‖∞')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--torchattacks', required=True, help='folder holding the torchattacks/ source folder')
    parser.add_argument('--model', required=True, help='model folder (model.json, weights, gccs.json)')
    parser.add_argument('--data', required=True, help='folder of the MNIST test set (t10k-*-ubyte.gz)')
    parser.add_argument('--start', type=int, default=8000, help="first test image; must be the model's test split start")
    parser.add_argument('--count', type=int, default=1000)
    parser.add_argument('--eps', default='0.1', help='comma list')
    parser.add_argument('--attacks', default='apgd-ce,apgd-t,square', help='comma list of apgd-ce, apgd-t, fab-t, square, autoattack (the four as a cascade)')
    parser.add_argument('--workers', type=int, default=2, help="our sweep's worker processes")
    parser.add_argument('--threads', type=int, default=2, help="PyTorch's threads")
    parser.add_argument('--batch', type=int, default=100)
    parser.add_argument('--seed', type=int, default=0, help='our seed (the peer always uses its seed 0)')
    parser.add_argument('--cli', default='dist/cli.js', help='our CLI (a copy of dist/ keeps a rebuild from disturbing a long run)')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    model = load_layers_model(args.model)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    x, y = mnist(args.data, args.start, args.count)
    check_loader(args, model, x, y)
    classes = model(x[:1]).shape[1]
    peer = load_peer(args.torchattacks)

    rows = []
    for eps in [float(e) for e in args.eps.split(',')]:
        for name in args.attacks.split(','):
            peer_accuracy, peer_robust, peer_seconds = run_peer(peer, name, model, x, y, eps, classes, args.batch)
            print(f'torchattacks {name} ε={eps}: {peer_accuracy:.2%} ({peer_seconds:.0f} s)', flush=True)
            our_accuracy, our_robust, our_seconds = run_ours(args, name, eps)
            # Samples only one side broke: a gap between the two accuracies is these counts' difference.
            only_ours, only_peer = int((~our_robust & peer_robust).sum()), int((our_robust & ~peer_robust).sum())
            rows.append((os.path.basename(os.path.normpath(args.model)), name, eps, our_accuracy, peer_accuracy, only_ours, only_peer, our_seconds, peer_seconds))
            print(f'{rows[-1][0]} {name} ε={eps}: ours {our_accuracy:.2%} ({our_seconds:.0f} s), torchattacks {peer_accuracy:.2%} ({peer_seconds:.0f} s); '
                  f'broken by ours only {only_ours}, by the peer only {only_peer}', flush=True)

    print(f'\n{args.count} test images from {args.start}, the same ε·‖x‖∞ per image for both; AutoAttack standard settings '
          f'(100 iterations, 1 restart, 9 targets, 5000 queries); our seed {args.seed}')
    print('| model | attack | ε | ours | torchattacks | ours − peer | broken by ours only | by the peer only | ours s | peer s | verdict |')
    print('|---|---|---|---|---|---|---|---|---|---|---|')
    failed = False
    for model_name, name, eps, ours, theirs, only_ours, only_peer, our_s, peer_s in rows:
        ok = ours <= theirs + 0.02
        failed |= not ok
        print(f'| {model_name} | {name} | {eps} | {ours:.2%} | {theirs:.2%} | {100 * (ours - theirs):+.1f} | {only_ours} | {only_peer} | {our_s:.0f} | {peer_s:.0f} | {"ok" if ok else "WEAKER"} |')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
