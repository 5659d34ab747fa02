#!/usr/bin/python3
"""Writes test/fixtures/onnx/mnist-tiny/: a tiny CNN (about 1,600 weights) trained by PyTorch for one
epoch on MNIST test images 0-7999 and exported to ONNX, with its preprocessing sidecar, and
PyTorch's accuracy and first logits on images 8000-8999, for test/unit/onnx-cli.test.ts (gccs eval,
evaluate, latent, sweep on an .onnx model).

Run with Debian's PyTorch:  /usr/bin/python3 bench/onnx_cli_fixture.py [--data DIR]
"""
import argparse, json, os, sys
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_mnist import MEAN, STD, mnist  # noqa: E402

OUT = 'test/fixtures/onnx/mnist-tiny'


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', default='/work/shared/data/mnist-t10k')
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    x, y = mnist(args.data)
    net = nn.Sequential(nn.Conv2d(1, 4, 5, stride=2), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-2)
    net.train()
    order = torch.randperm(8000)
    for start in range(0, 8000, 64):
        batch = order[start:start + 64]
        loss = nn.functional.cross_entropy(net((x[batch] - MEAN) / STD), y[batch])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    net.eval()
    test_x, test_y = x[8000:9000], y[8000:9000]
    with torch.no_grad():
        logits = net((test_x - MEAN) / STD)
    accuracy = (logits.argmax(1) == test_y).float().mean().item()
    os.makedirs(OUT, exist_ok=True)
    torch.onnx.export(net, (torch.zeros(1, 1, 28, 28),), os.path.join(OUT, 'model.onnx'), opset_version=13,
                      input_names=['input'], output_names=['logits'], dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    with open(os.path.join(OUT, 'model.onnx.gccs.json'), 'w') as f:
        json.dump({'layout': 'NCHW', 'range': [0, 1], 'mean': [MEAN], 'std': [STD], 'classNames': [str(d) for d in range(10)]}, f, indent=2)
    with open(os.path.join(OUT, 'torch.json'), 'w') as f:
        json.dump({'testRange': '8000:9000', 'accuracy': accuracy, 'logits8000to8004': logits[:5].tolist()}, f, indent=1)
    print(f'PyTorch accuracy on images 8000-8999: {accuracy * 100:.1f}%')


if __name__ == '__main__':
    main()
