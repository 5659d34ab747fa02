#!/usr/bin/python3
"""ONNX must-show: train a small CNN with PyTorch on MNIST test images 0-7999, export it to ONNX,
and record PyTorch's accuracy and logits on images 8000-9999 for the TensorFlow.js reader to match.

Run with Debian's PyTorch:  /usr/bin/python3 bench/onnx_mnist.py [--data DIR] [--out DIR]
Writes OUT/model.onnx, OUT/model.onnx.gccs.json (the preprocessing sidecar: the model normalises
inside, attacks stay in [0, 1] pixels), OUT/torch_logits.f32 (2000x10 little-endian float32) and
OUT/torch_result.json. Then:  node dist/cli.js eval --model OUT/model.onnx --dataset mnist
--data DIR --test-range 8000-9999   and   npx tsx bench/onnx_compare.ts OUT DIR
"""
import argparse, gzip, json, os, struct
import numpy as np
import torch
import torch.nn as nn

MEAN, STD = 0.1307, 0.3081


def read_idx(file):
    with gzip.open(file, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack('>' + 'I' * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def mnist(folder):
    images = read_idx(os.path.join(folder, 't10k-images-idx3-ubyte.gz')).astype(np.float32) / 255.0
    labels = read_idx(os.path.join(folder, 't10k-labels-idx1-ubyte.gz')).astype(np.int64)
    return torch.from_numpy(images[:, None, :, :].copy()), torch.from_numpy(labels.copy())


class Net(nn.Module):
    """Input: NCHW pixels in [0, 1]; the sidecar's mean/std is applied by the caller (as the reader does)."""
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.features(x))


def attack_accuracy(net, x, y, eps, steps):
    """FGSM (steps=1, step ε) or PGD from x (step 2.5ε/K, L∞ ball, pixels clamped to [0, 1]) on
    the cross-entropy of the logits, as `gccs attack` runs them (MNIST digits have ‖x‖∞ = 1, so the
    engine's relative ε is this absolute one). A peer by hand, and torchattacks' own with --torchattacks."""
    norm = lambda v: (v - MEAN) / STD
    step = eps if steps == 1 else 2.5 * eps / steps
    adv = x.clone()
    for _ in range(steps):
        adv.requires_grad_(True)
        loss = nn.functional.cross_entropy(net(norm(adv)), y, reduction='sum')
        grad, = torch.autograd.grad(loss, adv)
        adv = torch.min(torch.max(adv.detach() + step * grad.sign(), x - eps), x + eps).clamp(0, 1)
    with torch.no_grad():
        return (net(norm(adv)).argmax(1) == y).float().mean().item()


def torchattacks_accuracy(root, net, x, y):
    """torchattacks' FGSM and PGD (5 steps of 2.5ε/5, no random start) on the same network, its normalisation inside."""
    from peer_check import load_peer
    peer = load_peer(root, ('attacks.fgsm', 'attacks.pgd'))
    model = nn.Sequential(Normalize(), net).eval()
    results = {}
    for eps in [0.05, 0.1]:
        for name, attack in [('fgsm', peer['attacks.fgsm'].FGSM(model, eps=eps)),
                             ('pgd5', peer['attacks.pgd'].PGD(model, eps=eps, alpha=2.5 * eps / 5, steps=5, random_start=False))]:
            adv = attack(x, y)
            with torch.no_grad():
                results[f'torchattacks {name} eps {eps}'] = (model(adv).argmax(1) == y).float().mean().item()
    return results


class Normalize(nn.Module):
    def forward(self, x):
        return (x - MEAN) / STD


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', default='/work/shared/data/mnist-t10k')
    parser.add_argument('--out', default='models/onnx-mnist')
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--torchattacks', help="folder holding torchattacks' source (github.com/Harry24k/adversarial-attacks-pytorch): its FGSM and PGD too")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    x, y = mnist(args.data)
    train_x, train_y, test_x, test_y = x[:8000], y[:8000], x[8000:], y[8000:]
    net = Net()
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(8000)
        for start in range(0, 8000, 64):
            batch = order[start:start + 64]
            loss = nn.functional.cross_entropy(net((train_x[batch] - MEAN) / STD), train_y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        print(f'epoch {epoch + 1}: loss {loss.item():.4f}', flush=True)
    net.eval()
    with torch.no_grad():
        logits = net((test_x - MEAN) / STD)
    accuracy = (logits.argmax(1) == test_y).float().mean().item()
    attacks = {f'{name} eps {eps}': attack_accuracy(net, test_x[:500], test_y[:500], eps, steps)
               for name, steps in [('fgsm', 1), ('pgd5', 5)] for eps in [0.05, 0.1]}
    print('PyTorch robust accuracy on images 8000-8499:', attacks)
    if args.torchattacks:
        attacks.update(torchattacks_accuracy(args.torchattacks, net, test_x[:500], test_y[:500]))
        print('with torchattacks:', {k: v for k, v in attacks.items() if k.startswith('torchattacks')})
    os.makedirs(args.out, exist_ok=True)
    torch.onnx.export(net, (torch.zeros(1, 1, 28, 28),), os.path.join(args.out, 'model.onnx'), opset_version=13,
                      input_names=['input'], output_names=['logits'], dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    with open(os.path.join(args.out, 'model.onnx.gccs.json'), 'w') as f:
        json.dump({'layout': 'NCHW', 'range': [0, 1], 'mean': [MEAN], 'std': [STD], 'classNames': [str(d) for d in range(10)]}, f, indent=2)
    logits.numpy().astype('<f4').tofile(os.path.join(args.out, 'torch_logits.f32'))
    with open(os.path.join(args.out, 'torch_result.json'), 'w') as f:
        json.dump({'testRange': '8000-9999', 'count': len(test_y), 'accuracy': accuracy, 'attacks8000to8499': attacks, 'torch': torch.__version__}, f, indent=2)
    print(f'PyTorch accuracy on images 8000-9999: {accuracy * 100:.2f}%')


if __name__ == '__main__':
    main()
