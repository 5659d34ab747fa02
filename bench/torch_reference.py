"""PyTorch reference for `npm run bench`: times the project's reference CNN and MLP (same layers,
batch sizes and protocol as scripts/bench.ts) for cross-entropy training, inference and PGD-5,
with 1 and 2 threads, and prints one JSON object. Run with a Python that can import torch."""
import json
import statistics
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


def rate(images_per_call, call, warmup, steps, repeats):
    """Median images/s over `repeats` timings of `steps` calls, after `warmup` calls."""
    for _ in range(warmup):
        call()
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(steps):
            call()
        rates.append(images_per_call * steps / (time.perf_counter() - started))
    return statistics.median(rates)


def measure(build, protocol):
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

    return {
        'trainCrossEntropy': rate(TRAIN_BATCH, train_step, *protocol),
        'inference': rate(TRAIN_BATCH, inference, *protocol),
        'pgd5': rate(ATTACK_BATCH, pgd5, *protocol),
    }


def main():
    warmup, steps, repeats = (int(v) for v in sys.argv[1:4]) if len(sys.argv) >= 4 else (3, 5, 5)
    protocol = (warmup, steps, repeats)
    result = {'torch': torch.__version__, 'python': sys.version.split()[0], 'imagesPerSecond': {}}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        result['imagesPerSecond'][f'threads{threads}'] = {'cnn': measure(cnn, protocol), 'mlp': measure(mlp, protocol)}
    print(json.dumps(result))


if __name__ == '__main__':
    main()
