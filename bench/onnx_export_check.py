#!/usr/bin/python3
"""Export check, second half: runs an .onnx file written by `gccs export` in PyTorch, by a small
reference evaluator of its graph (torch.nn.functional, float64; every op the exporter writes), after
onnx.checker has checked the file, and compares its logits on MNIST test images 8000-9999 with the
TF.js LayersModel's (written by bench/onnx_export_check.ts, on as many images from 8000 on).

Run with Debian's PyTorch and python3-onnx:
  /usr/bin/python3 bench/onnx_export_check.py FILE.onnx [--data DIR]
"""
import argparse, os, sys
import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_mnist import mnist  # noqa: E402


def attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def conv_pads(x, pads, value=0.0):
    top, left, bottom, right = pads
    return F.pad(x, (left, right, top, bottom), value=value)


def run(node, inputs):
    a = attributes(node)
    op = node.op_type
    if op == 'Conv':
        assert a.get('group', 1) == 1
        x = conv_pads(inputs[0], a['pads'])
        return F.conv2d(x, inputs[1], inputs[2] if len(inputs) > 2 else None, stride=a['strides'], dilation=a['dilations'])
    if op == 'MaxPool':
        return F.max_pool2d(conv_pads(inputs[0], a['pads'], -np.inf), a['kernel_shape'], a['strides'])
    if op == 'AveragePool':
        x = inputs[0]
        sums = F.avg_pool2d(conv_pads(x, a['pads']), a['kernel_shape'], a['strides'], divisor_override=1)
        if a.get('count_include_pad', 0):
            return sums / np.prod(a['kernel_shape'])
        counts = F.avg_pool2d(conv_pads(torch.ones_like(x[:1, :1]), a['pads']), a['kernel_shape'], a['strides'], divisor_override=1)
        return sums / counts
    if op == 'Gemm':
        y = a.get('alpha', 1.0) * (inputs[0].T if a.get('transA', 0) else inputs[0]) @ (inputs[1].T if a.get('transB', 0) else inputs[1])
        return y + a.get('beta', 1.0) * inputs[2] if len(inputs) > 2 else y
    if op == 'BatchNormalization':
        x, scale, bias, mean, var = inputs
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + a.get('epsilon', 1e-5)) * scale.reshape(shape) + bias.reshape(shape)
    if op == 'Transpose':
        return inputs[0].permute(*a['perm'])
    if op == 'Flatten':
        return torch.flatten(inputs[0], a.get('axis', 1))
    if op == 'GlobalAveragePool':
        return inputs[0].mean((2, 3), keepdim=True)
    if op == 'Clip':
        return torch.clamp(inputs[0], inputs[1].item(), inputs[2].item())
    if op == 'Softmax':
        return torch.softmax(inputs[0], a.get('axis', -1))
    if op == 'Concat':
        return torch.cat(inputs, a['axis'])
    if op == 'LeakyRelu':
        return F.leaky_relu(inputs[0], a.get('alpha', 0.01))
    unary = {'Relu': torch.relu, 'Sigmoid': torch.sigmoid, 'Tanh': torch.tanh, 'Identity': lambda x: x}
    binary = {'Add': torch.add, 'Mul': torch.mul}
    if op in unary:
        return unary[op](inputs[0])
    if op in binary:
        return binary[op](inputs[0], inputs[1])
    raise ValueError(f'op {op} is not in this reference evaluator')


def evaluate(model, x):
    values = {t.name: torch.from_numpy(numpy_helper.to_array(t).astype(np.float64)) for t in model.graph.initializer}
    values[model.graph.input[0].name] = x
    for node in model.graph.node:
        values[node.output[0]] = run(node, [values[name] for name in node.input if name])
    return values[model.graph.output[0].name]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('onnx')
    parser.add_argument('--data', default='/work/shared/data/mnist-t10k')
    args = parser.parse_args()
    model = onnx.load(args.onnx)
    onnx.checker.check_model(model, full_check=True)
    classes = model.graph.output[0].type.tensor_type.shape.dim[1].dim_value
    tfjs = torch.from_numpy(np.fromfile(f'{args.onnx}.tfjs_logits.f32', dtype='<f4').reshape(-1, classes).astype(np.float64))
    x, y = mnist(args.data)
    x, y = x[8000:8000 + len(tfjs)].double(), y[8000:8000 + len(tfjs)]
    with torch.no_grad():
        logits = evaluate(model, x)
    ops = sorted({n.op_type for n in model.graph.node})
    print(f'{args.onnx}: onnx.checker (full) passes; opset {model.opset_import[0].version}; ops {", ".join(ops)}')
    print(f'accuracy on MNIST {8000}-{8000 + len(y) - 1}: ONNX graph in PyTorch {(logits.argmax(1) == y).double().mean() * 100:.2f}%, '
          f'TF.js LayersModel {(tfjs.argmax(1) == y).double().mean() * 100:.2f}%')
    difference = (logits - tfjs).abs().max().item()
    print(f'largest |logit difference| {difference:.2e}, relative to the largest |logit| {difference / tfjs.abs().max().item():.2e}')


if __name__ == '__main__':
    main()
