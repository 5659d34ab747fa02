"""PyTorch reference for `npm run bench`: times the project's reference CNN and MLP (same layers and
batch sizes as scripts/bench.ts) for cross-entropy training, inference and PGD-5 on ONE thread
(torch.set_num_threads(1)). It stays alive and answers one JSON line per request on stdin, so the
bench can alternate its own rounds with PyTorch's: first it prints {"torch", "python", "threads"},
then for each request {"model", "workload", "warmup", "steps"} one {"imagesPerSecond"} (warm-up
calls run only on a workload's first request). Run with a Python that can import torch."""
import json
import sys
import time

import torch
from torch import nn

TRAIN_BATCH = 200
ATTACK_BATCH = 100


def cnn():
    # conv 32@3x3 ReLU - maxpool 2 - conv 64@3x3 ReLU - maxpool 2 - dense 128 ReLU - dropout - dense 10
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10),
    )


def mlp():
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10),
    )


def workloads(build):
    """The timed calls of one network and the images each call handles."""
    torch.manual_seed(0)
    model = build()
    x = torch.rand(TRAIN_BATCH, 1, 28, 28)
    y = torch.randint(0, 10, (TRAIN_BATCH,))
    # The project's default: Adam with decoupled weight decay (AdamW), lr 3e-3, beta2 0.99.
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.99), eps=1e-7, weight_decay=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def train_step():
        model.train()
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    def inference():
        model.eval()
        with torch.no_grad():
            model(x)

    xa, ya = x[:ATTACK_BATCH], y[:ATTACK_BATCH]

    def pgd5(eps=0.1, steps=5):
        # Sign-gradient steps of 2.5 eps / K on the cross-entropy, projected onto the eps-ball and [0, 1].
        model.eval()
        step = 2.5 * eps / steps
        adv = xa.clone()
        for _ in range(steps):
            adv.requires_grad_(True)
            grad, = torch.autograd.grad(loss_fn(model(adv), ya), adv)
            adv = torch.min(torch.max(adv.detach() + step * grad.sign(), xa - eps), xa + eps).clamp(0, 1)
        return adv

    return {'trainCrossEntropy': (TRAIN_BATCH, train_step), 'inference': (TRAIN_BATCH, inference), 'pgd5': (ATTACK_BATCH, pgd5)}


def main():
    torch.set_num_threads(1)
    print(json.dumps({'torch': torch.__version__, 'python': sys.version.split()[0], 'threads': torch.get_num_threads()}), flush=True)
    models = {}
    warmed = set()
    for line in sys.stdin:
        request = json.loads(line)
        name, workload = request['model'], request['workload']
        if name not in models:
            models[name] = workloads({'cnn': cnn, 'mlp': mlp}[name])
        images, call = models[name][workload]
        if (name, workload) not in warmed:
            for _ in range(request['warmup']):
                call()
            warmed.add((name, workload))
        started = time.perf_counter()
        for _ in range(request['steps']):
            call()
        print(json.dumps({'imagesPerSecond': images * request['steps'] / (time.perf_counter() - started)}), flush=True)


if __name__ == '__main__':
    main()
