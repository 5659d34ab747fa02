"""Wall time of the peer (torchattacks, from its public source) for the attacks of the `autoattack`
preset, on the same LayersModel and MNIST test images as `npm run bench --autoattack`: APGD-CE,
APGD-T, FAB-T and Square with AutoAttack's "standard" settings, each on every image, as a sweep runs
a preset (not as a cascade), on as many processes as the sweep's workers (1 PyTorch thread each,
each on its share of the images: on a busy machine PyTorch's own 2 threads were many times slower). Prints one
JSON line: per attack the slowest process's seconds and the accuracy, the wall and CPU time, PyTorch's version.

  /usr/bin/python3 bench/autoattack_peer_time.py --torchattacks DIR --model M --data MNIST_DIR \
      --start 6000 --count 1000 --eps 0.1 --processes 2 --attacks apgd-ce,apgd-t,fab-t,square

DIR holds torchattacks/ (github.com/Harry24k/adversarial-attacks-pytorch). The peer takes an absolute
ε; MNIST images have ‖x‖∞ = 1 or 254/255, so it gets each image's ε·‖x‖∞ as bench/peer_check.py
gives it (images grouped by ‖x‖∞).
"""
import argparse
import importlib.util
import json
import multiprocessing
import resource
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_check import load_layers_model, load_peer, mnist  # noqa: E402


def load_fab(root):
    """torchattacks' FAB module (load_peer has made the package and its Attack base importable)."""
    full = 'torchattacks.attacks.fab'
    spec = importlib.util.spec_from_file_location(full, os.path.join(root, 'torchattacks', 'attacks', 'fab.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[full] = module
    spec.loader.exec_module(module)
    return module


def make_attack(peer, fab, name, model, eps, classes, args):
    # AutoAttack's "standard" settings (its original source): 100 iterations, 1 restart, 9 targets, 5000 queries.
    if name == 'apgd-ce':
        return peer['attacks.apgd'].APGD(model, norm='Linf', eps=eps, steps=100, n_restarts=1, loss='ce', seed=0)
    if name == 'apgd-t':
        return peer['attacks.apgdt'].APGDT(model, norm='Linf', eps=eps, steps=100, n_restarts=1, n_classes=classes, seed=0)
    if name == 'fab-t':
        return fab.FAB(model, norm='Linf', eps=eps, steps=args.fab_steps, n_restarts=1, multi_targeted=True, n_classes=classes, seed=0)
    if name == 'square':
        return peer['attacks.square'].Square(model, norm='Linf', eps=eps, n_queries=5000, n_restarts=1, p_init=0.8, seed=0)
    raise SystemExit(f'unknown attack {name}')


def run_share(args, share):
    """One process's share of the images (every `processes`-th), all attacks, on 1 PyTorch thread."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = load_layers_model(args.model)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    x, y = mnist(args.data, args.start, args.count)
    x, y = x[share::args.processes], y[share::args.processes]
    classes = model(x[:1]).shape[1]
    peer = load_peer(args.torchattacks)
    fab = load_fab(args.torchattacks)
    peaks = x.amax(dim=(1, 2, 3))
    attacks = {}
    for name in args.attacks.split(','):
        started = time.perf_counter()
        robust = torch.zeros(len(y), dtype=torch.bool)
        for peak in torch.unique(peaks).tolist():
            group = (peaks == peak).nonzero().flatten()
            attack = make_attack(peer, fab, name, model, args.eps * peak, classes, args)
            for i in range(0, len(group), args.batch):
                index = group[i:i + args.batch]
                adversarial = attack(x[index], y[index])
                with torch.no_grad():
                    robust[index] = model(adversarial).argmax(1) == y[index]
        attacks[name] = {'seconds': time.perf_counter() - started, 'robust': int(robust.sum())}
        print(f'process {share} {name}: {attacks[name]}', file=sys.stderr, flush=True)
    return attacks


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--torchattacks', required=True)
    parser.add_argument('--model', required=True)
    parser.add_argument('--data', required=True)
    parser.add_argument('--start', type=int, default=6000)
    parser.add_argument('--count', type=int, default=1000)
    parser.add_argument('--eps', type=float, default=0.1)
    parser.add_argument('--processes', type=int, default=2, help='processes of 1 PyTorch thread each, every one on its share of the images')
    parser.add_argument('--batch', type=int, default=100)
    parser.add_argument('--fab-steps', type=int, default=100, help="FAB-T's iterations per target (AutoAttack's 100)")
    parser.add_argument('--attacks', default='apgd-ce,apgd-t,fab-t,square')
    args = parser.parse_args()
    started = time.perf_counter()
    with multiprocessing.get_context('fork').Pool(args.processes) as pool:
        shares = pool.starmap(run_share, [(args, share) for share in range(args.processes)])
    seconds = time.perf_counter() - started
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu_seconds = sum(u.ru_utime + u.ru_stime for u in usage)
    # Per attack: the slowest process's time (the processes run side by side) and the accuracy over all images.
    attacks = {name: {'seconds': round(max(share[name]['seconds'] for share in shares), 2),
                      'accuracy': round(sum(share[name]['robust'] for share in shares) / args.count, 4)} for name in shares[0]}
    print(json.dumps({'attacks': attacks, 'seconds': round(seconds, 2), 'cpuSeconds': round(cpu_seconds, 2), 'count': args.count, 'eps': args.eps, 'torch': torch.__version__,
                      'processes': args.processes, 'threadsPerProcess': 1, 'fabSteps': args.fab_steps}))


if __name__ == '__main__':
    main()
