#!/usr/bin/python3
"""Writes the small ONNX test fixtures of test/unit/onnx-*.test.ts: models exported by PyTorch with
random weights, with PyTorch's outputs on seeded random inputs. Run with Debian's PyTorch:
/usr/bin/python3 bench/onnx_fixtures.py  (writes test/fixtures/onnx/; tests need no torch)."""
import json, os
import torch
import torch.nn as nn

OUT = 'test/fixtures/onnx'


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip = nn.Sequential() if stride == 1 and cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.skip(x))


class ResNetStyle(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.blocks = nn.Sequential(Block(8, 8, 1), Block(8, 16, 2))
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class OpMix(nn.Module):
    """The other ops: grouped and depthwise dilated convs, pads/strides, max/avg pooling with
    padding and ceil_mode, LeakyReLU, sigmoid, tanh, concat, Pad, reshape/transpose, softmax."""
    def __init__(self):
        super().__init__()
        self.grouped = nn.Conv2d(4, 6, 3, stride=2, padding=(1, 2), groups=2)
        self.depthwise = nn.Conv2d(6, 12, 3, padding=2, dilation=2, groups=6)
        self.fc = nn.Linear(12 * 3 * 3 + 6 * 3 * 3, 7)

    def forward(self, x):
        a = nn.functional.leaky_relu(self.grouped(x), 0.2)  # 6 x 5 x 6
        b = torch.sigmoid(self.depthwise(a))
        b = nn.functional.max_pool2d(b, 3, 2, padding=1, ceil_mode=True)  # 12 x 3 x 4
        b = b[:, :, :, :3]
        c = torch.tanh(nn.functional.avg_pool2d(nn.functional.pad(a, (1, 0, 0, 1)), 2, 2, padding=1, count_include_pad=False))
        c = c[:, :, :3, :3]
        z = torch.cat([b.reshape(x.shape[0], -1), c.permute(0, 1, 3, 2).reshape(x.shape[0], -1)], 1)
        return self.fc(z) - torch.softmax(self.fc(z), 1)


def export(name, net, shape, dynamic=True):
    torch.manual_seed(1)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5); m.running_var.uniform_(0.5, 2); m.weight.data.uniform_(0.5, 1.5); m.bias.data.uniform_(-0.5, 0.5)
    net.eval()
    x = torch.rand(3, *shape, requires_grad=True)
    y = net(x)
    # The input gradient of a fixed weighting of the outputs, for the gradient test.
    weights = torch.linspace(-1, 1, y.numel()).reshape(y.shape)
    gradient, = torch.autograd.grad((y * weights).sum(), x)
    x, y = x.detach(), y.detach()
    torch.onnx.export(net, (x,), os.path.join(OUT, f'{name}.onnx'), opset_version=13, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}} if dynamic else None)
    with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
        json.dump({'inputShape': list(x.shape), 'input': [round(v, 8) for v in x.flatten().tolist()], 'outputShape': list(y.shape), 'output': y.flatten().tolist(), 'gradient': gradient.flatten().tolist()}, f)


def main():
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    export('resnet', ResNetStyle(), (3, 16, 16))
    # A fixed batch: F.pad of a dynamic batch exports as ConstantOfShape/Where arithmetic, which the reader does not take.
    export('opmix', OpMix(), (4, 10, 10), dynamic=False)


if __name__ == '__main__':
    main()
