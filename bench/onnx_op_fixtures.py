#!/usr/bin/python3
"""Writes the per-op ONNX fixtures of test/unit/onnx-ops.test.ts: for every op the reader runs
(src/core/io/onnx/ops.ts), tiny graphs exported by PyTorch (torch.onnx.export, fixed seeds) with
the attributes and edge cases the reader claims (pads, strides, dilations, groups, broadcasting,
Gemm transA/alpha/beta, opset 11 forms, ...), and PyTorch's outputs and input gradients in float64
on the same float32 weights and inputs as the reference. The few forms PyTorch never emits
(Dropout in an inference graph, Constant value_float/value_ints, Reshape's 0, Softmax's pre-13
flattening) are built with onnx.helper and their reference computed by the equivalent torch code.

Run with Debian's PyTorch and python3-onnx (apt):  /usr/bin/python3 bench/onnx_op_fixtures.py
Writes test/fixtures/onnx/ops/<case>.onnx and cases.json (base64 little-endian: input float32,
output and gradient float64); the tests need neither torch nor onnx.
"""
import base64, io, json, os
import numpy as np
import onnx
from onnx import helper, TensorProto
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = 'test/fixtures/onnx/ops'


class Fn(nn.Module):
    """A function of the input, with float parameters that export as initializers."""
    def __init__(self, f, **params):
        super().__init__()
        self.f = f
        for name, shape in params.items():
            setattr(self, name, nn.Parameter(torch.randn(*shape)))

    def forward(self, x):
        return self.f(self, x)


def randomise_batchnorm(net):
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5); m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5); m.bias.data.uniform_(-0.5, 0.5)
    return net


def with_bn(net):
    with torch.no_grad():
        return randomise_batchnorm(net)


# name: (module builder, input shape, opset, dynamic batch, ops the graph must contain)
EXPORTED = {
    'conv_stride_dilation_pads': (lambda: nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(2, 1)), (2, 3, 7, 6), 13, True, ['Conv']),
    'conv_groups_nobias': (lambda: nn.Conv2d(4, 6, 3, padding=1, groups=2, bias=False), (2, 4, 5, 5), 13, True, ['Conv']),
    'conv_depthwise_stride': (lambda: nn.Conv2d(3, 6, 3, stride=2, padding=1, groups=3), (2, 3, 7, 7), 13, True, ['Conv']),
    'conv_depthwise_dilation_stride': (lambda: nn.Conv2d(3, 3, 3, stride=2, padding=2, dilation=2, groups=3), (1, 3, 8, 7), 17, True, ['Conv']),
    'conv_grouped_dilation_1x1': (lambda: nn.Sequential(nn.Conv2d(4, 4, 2, dilation=(1, 3), groups=2), nn.Conv2d(4, 2, 1, stride=2)), (1, 4, 6, 8), 13, True, ['Conv']),
    'maxpool_rect_pads': (lambda: nn.MaxPool2d((3, 2), stride=(1, 2), padding=(1, 0)), (2, 2, 5, 6), 13, True, ['MaxPool']),
    'maxpool_ceil': (lambda: nn.MaxPool2d(2, ceil_mode=True), (1, 2, 5, 7), 13, True, ['MaxPool']),
    'avgpool_include_pad': (lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=True), (2, 2, 6, 5), 13, True, ['AveragePool']),
    'avgpool_exclude_pad': (lambda: nn.AvgPool2d((2, 3), stride=(2, 1), padding=(1, 1), count_include_pad=False), (1, 2, 5, 5), 13, True, ['AveragePool']),
    'avgpool_ceil': (lambda: nn.AvgPool2d(2, stride=2, ceil_mode=True), (1, 2, 5, 5), 13, True, ['AveragePool']),
    'avgpool_ceil_pads': (lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (1, 2, 6, 6), 13, True, ['AveragePool']),
    'global_average_pool': (lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 4, 5), 13, True, ['GlobalAveragePool']),
    'batchnorm_2d': (lambda: with_bn(nn.BatchNorm2d(3)), (2, 3, 4, 4), 13, True, ['BatchNormalization']),
    'batchnorm_1d': (lambda: with_bn(nn.BatchNorm1d(5)), (3, 5), 15, True, ['BatchNormalization']),
    'gemm_linear': (lambda: nn.Linear(6, 4), (3, 6), 13, True, ['Gemm']),
    'gemm_transA_alpha_beta': (lambda: Fn(lambda s, x: torch.addmm(s.c, x.t(), s.w.t(), beta=0.5, alpha=2), c=(4,), w=(4, 6)), (6, 5), 13, False, ['Gemm']),
    'matmul_broadcast': (lambda: Fn(lambda s, x: x @ s.w, w=(4, 3)), (2, 3, 5, 4), 13, True, ['MatMul']),
    'matmul_batched_linear_nobias': (lambda: Fn(lambda s, x: nn.functional.linear(x @ x.transpose(1, 2), s.w), w=(2, 3)), (2, 3, 4), 13, True, ['MatMul', 'Transpose']),
    'arithmetic_broadcast': (lambda: Fn(lambda s, x: ((x + s.b) * s.w - 0.5) / (x * x + s.c.abs() + 1) + 2 / (3 + x.abs()), b=(3, 1, 1), w=(5,), c=(1, 3, 1, 1)), (2, 3, 4, 5), 13, True, ['Add', 'Sub', 'Mul', 'Div']),
    'activations': (lambda: Fn(lambda s, x: torch.cat([F.relu(x), F.leaky_relu(x), F.leaky_relu(x, 0.3), torch.sigmoid(x), torch.tanh(x)], 1)), (2, 3, 4), 13, True, ['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Concat']),
    'clip': (lambda: Fn(lambda s, x: torch.clamp(x, min=-0.5) + torch.clamp(x, max=0.3) + F.relu6(3 * x) + torch.clamp(x, -1, 1)), (2, 3, 4), 13, True, ['Clip']),
    'clip_opset11': (lambda: Fn(lambda s, x: torch.clamp(x, min=-0.5) + torch.clamp(x, max=0.3) + torch.clamp(x, -1, 1)), (2, 3, 4), 11, True, ['Clip']),
    'softmax_axes': (lambda: Fn(lambda s, x: torch.softmax(x, 1) + torch.softmax(x, -1) * torch.softmax(x, 2)), (2, 3, 4, 2), 13, True, ['Softmax']),
    'softmax_opset11': (lambda: Fn(lambda s, x: torch.softmax(x, 1) + torch.softmax(x, -1)), (2, 3, 4), 11, True, ['Softmax']),
    'flatten_axes': (lambda: Fn(lambda s, x: torch.cat([torch.flatten(x, 1), nn.Flatten()(x.permute(0, 2, 3, 1))], 1)), (2, 3, 2, 2), 13, True, ['Flatten', 'Transpose']),
    'reshape_dynamic_shape': (lambda: Fn(lambda s, x: x.reshape(x.shape[0], -1) + torch.flatten(x, 2).reshape(x.shape[0], x.shape[1] * x.shape[2] * x.shape[3])), (2, 3, 2, 2), 13, True, ['Shape', 'Gather', 'Unsqueeze', 'Concat', 'Reshape']),
    'concat_parameter': (lambda: Fn(lambda s, x: torch.cat([x, s.p, 2 * x], 1), p=(1, 2, 4)), (1, 3, 4), 13, False, ['Concat']),
    'pad_constant_value': (lambda: Fn(lambda s, x: F.pad(x, (1, 2, 0, 1), value=0.5)), (1, 2, 3, 4), 13, False, ['Pad']),
    'pad_reflect': (lambda: Fn(lambda s, x: F.pad(x, (1, 1, 2, 0), mode='reflect')), (1, 2, 4, 4), 13, False, ['Pad']),
    'pad_replicate': (lambda: Fn(lambda s, x: F.pad(x, (2, 1, 0, 3), mode='replicate')), (1, 2, 3, 4), 13, False, ['Pad']),
    'gather_indices': (lambda: Fn(lambda s, x: torch.cat([x[:, 1] + x[:, -1], x[:, :, [2, 0, 1]].sum(1)], 1)), (2, 3, 4), 13, True, ['Gather']),
    'squeeze_unsqueeze': (lambda: Fn(lambda s, x: x.squeeze(1).unsqueeze(-1) * 2), (2, 1, 3, 4), 13, True, ['Squeeze', 'Unsqueeze']),
    'squeeze_unsqueeze_opset11': (lambda: Fn(lambda s, x: x.squeeze(1).unsqueeze(-1) * 2), (2, 1, 3, 4), 11, True, ['Squeeze', 'Unsqueeze']),
    'slice_flip': (lambda: Fn(lambda s, x: x.flip(2)[:, 1:, :-1] + x[:, :2, -3:]), (2, 3, 4), 13, True, ['Slice']),
    'slice_steps': (lambda: Fn(lambda s, x: torch.cat([t.flatten(1) for t in (x[:, :, ::2, 1::3], x[:, :, 1:6:2, -4::3], x[:, :, 4::5, :5:2])], 1)), (1, 2, 7, 8), 13, True, ['Slice']),
    'unary_math_reduce': (lambda: Fn(lambda s, x: torch.cat([-x, torch.sqrt(x.abs() + 1), torch.exp(x / 2), torch.log(x * x + 0.5), torch.erf(x), x ** 2 - x ** 3, F.gelu(x), x - x.mean((2, 3), keepdim=True), x * x.sum(1, keepdim=True)], 1).mean(3)), (2, 3, 2, 4), 13, True, ['Neg', 'Sqrt', 'Abs', 'Exp', 'Log', 'Erf', 'Pow', 'ReduceMean', 'ReduceSum']),
    'cast_float64': (lambda: Fn(lambda s, x: (x.double() * 3).float()), (2, 3), 13, True, ['Cast']),
    'constant_of_shape': (lambda: Fn(lambda s, x: x * torch.full_like(x, 0.5) + torch.zeros_like(x)), (2, 3), 13, True, ['ConstantOfShape', 'Shape']),
}


def manual_graph(name, opset, nodes, input_shape, output_shape, initializers=()):
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info('input', TensorProto.FLOAT, input_shape)],
                              [helper.make_tensor_value_info('output', TensorProto.FLOAT, output_shape)], list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)], producer_name='bench/onnx_op_fixtures.py')
    onnx.checker.check_model(model)
    return model


def numpy_tensor(name, array):
    return helper.make_tensor(name, TensorProto.FLOAT, array.shape, array.astype(np.float32).flatten().tolist())


def manual_cases(rng):
    """(name, model, input shape, torch function of (x, float64 initializers), ops)."""
    cases = []
    # Dropout and Identity in an inference graph, Constant's value_float and value_ints, Reshape's 0 (copy the dim).
    nodes = [
        helper.make_node('Constant', [], ['ratio'], value_float=0.3),
        helper.make_node('Dropout', ['input', 'ratio'], ['dropped']),
        helper.make_node('Identity', ['dropped'], ['same']),
        helper.make_node('Constant', [], ['k'], value_float=2.5),
        helper.make_node('Mul', ['same', 'k'], ['scaled']),
        helper.make_node('Constant', [], ['shape'], value_ints=[0, -1]),
        helper.make_node('Reshape', ['scaled', 'shape'], ['output']),
    ]
    cases.append(('dropout_identity_constant_reshape0', manual_graph('d', 13, nodes, [2, 3, 4], [2, 12]), (2, 3, 4), lambda x, p: (x * 2.5).reshape(2, 12), ['Dropout', 'Identity', 'Constant', 'Reshape']))
    # Gemm with transA and transB, alpha and beta, and C broadcast from one row.
    b, c = rng.standard_normal((4, 6)), rng.standard_normal((1, 4))
    nodes = [helper.make_node('Gemm', ['input', 'b', 'c'], ['output'], transA=1, transB=1, alpha=0.7, beta=-1.5)]
    cases.append(('gemm_transA_transB_broadcast_c', manual_graph('g', 13, nodes, [6, 3], [3, 4], [numpy_tensor('b', b), numpy_tensor('c', c)]), (6, 3),
                  lambda x, p: 0.7 * x.t() @ p['b'].t() - 1.5 * p['c'], ['Gemm']))
    # Slice with negative steps other than -1 (PyTorch's slicing has none), clamped ends.
    nodes = [helper.make_node('Slice', ['input', 'starts', 'ends', 'axes', 'steps'], ['output'])]
    slicing = [helper.make_tensor(name, TensorProto.INT64, [2], values) for name, values in
               [('starts', [-1, 6]), ('ends', [-100, 0]), ('axes', [2, 3]), ('steps', [-2, -3])]]
    rows, columns = list(range(6, -1, -2)), list(range(6, 0, -3))
    cases.append(('slice_negative_steps', manual_graph('n', 13, nodes, [1, 2, 7, 8], [1, 2, len(rows), len(columns)], slicing), (1, 2, 7, 8),
                  lambda x, p: x[:, :, rows][:, :, :, columns], ['Slice']))
    # auto_pad, which PyTorch never writes: SAME_UPPER (TensorFlow's 'same') and SAME_LOWER, strided.
    w = rng.standard_normal((3, 2, 4, 3))
    nodes = [helper.make_node('Conv', ['input', 'w'], ['conv'], kernel_shape=[4, 3], strides=[2, 1], auto_pad='SAME_UPPER'),
             helper.make_node('MaxPool', ['conv'], ['output'], kernel_shape=[2, 2], strides=[2, 2], auto_pad='SAME_LOWER')]
    cases.append(('auto_pad_same', manual_graph('a', 13, nodes, [1, 2, 7, 5], [1, 3, 2, 3], [numpy_tensor('w', w)]), (1, 2, 7, 5),
                  # SAME_UPPER: rows 7 → 4 at stride 2 need (4-1)·2+4-7 = 3 rows of padding: 1 above, 2 below; columns 2: 1 and 1.
                  # SAME_LOWER on 4×5 → 2×3: rows (2-1)·2+2-4 = 0; columns (3-1)·2+2-5 = 1, on the left (the odd one goes first).
                  lambda x, p: F.max_pool2d(F.pad(F.conv2d(F.pad(x, (1, 1, 1, 2)), p['w'], stride=(2, 1)), (1, 0, 0, 0), value=-np.inf), 2, 2),
                  ['Conv', 'MaxPool']))
    # AveragePool counting the padding with ceil_mode: windows that run past the padding divide by their part inside it.
    nodes = [helper.make_node('AveragePool', ['input'], ['output'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1)]
    cases.append(('avgpool_ceil_count_pad', manual_graph('c', 13, nodes, [1, 2, 6, 6], [1, 2, 4, 4]), (1, 2, 6, 6),
                  lambda x, p: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=True), ['AveragePool']))
    # Softmax before opset 13: the input flattened to 2-D at axis 1, one softmax over all of C×H×W.
    nodes = [helper.make_node('Softmax', ['input'], ['output'], axis=1)]
    cases.append(('softmax_opset11_flattening', manual_graph('s', 11, nodes, [2, 3, 2, 2], [2, 3, 2, 2]), (2, 3, 2, 2),
                  lambda x, p: torch.softmax(x.reshape(2, -1), 1).reshape(x.shape), ['Softmax']))
    for case in cases:
        case[1].graph.name = case[0]
    return cases, {'b': b, 'c': c, 'w': w}


# Forms the reader refuses: one line naming the node and the problem.
REFUSED = {
    'refused_maxpool_dilation': (lambda: nn.MaxPool2d(2, dilation=2), (1, 1, 6, 6), 'dilated pooling is not supported'),
}


def b64(array, dtype):
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).astype(dtype).tobytes()).decode('ascii')


def output_weights(n):
    """The fixed weighting of the outputs whose input gradient is checked: −1 … 1, as the test builds it."""
    return -1 + 2 * np.arange(n, dtype=np.float64) / max(n - 1, 1)


def reference(f, x32):
    """f's output and the input gradient of Σ w·f(x), in float64 on the float32 input."""
    x = torch.from_numpy(x32.astype(np.float64)).requires_grad_(True)
    y = f(x)
    weights = torch.from_numpy(output_weights(y.numel()).reshape(tuple(y.shape)))
    gradient, = torch.autograd.grad((y * weights).sum(), x)
    return y.detach().numpy(), gradient.numpy()


def export(net, x32, opset, dynamic):
    buffer = io.BytesIO()
    torch.onnx.export(net, (torch.from_numpy(x32),), buffer, opset_version=opset, input_names=['input'], output_names=['output'],
                      dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}} if dynamic else None)
    return onnx.load_from_string(buffer.getvalue())


def save(name, model):
    data = model.SerializeToString()
    with open(os.path.join(OUT, f'{name}.onnx'), 'wb') as f:
        f.write(data)
    return len(data)


def record(name, model, opset, ops, x32, y, gradient):
    present = sorted({n.op_type for n in model.graph.node})
    missing = [op for op in ops if op not in present]
    assert not missing, f'{name}: the exported graph has no {missing} ({present})'
    save(name, model)
    return {'name': name, 'opset': opset, 'ops': present, 'inputShape': list(x32.shape), 'input': b64(x32, '<f4'),
            'outputShape': list(y.shape), 'output': b64(y, '<f8'), 'gradient': b64(gradient, '<f8')}


def main():
    os.makedirs(OUT, exist_ok=True)
    cases, refused = [], []
    for index, (name, (build, shape, opset, dynamic, ops)) in enumerate(EXPORTED.items()):
        torch.manual_seed(100 + index)
        net = build().eval()
        x32 = (torch.randn(*shape) * 1.5).numpy().astype(np.float32)
        model = export(net, x32, opset, dynamic)
        y, gradient = reference(net.double(), x32)
        cases.append(record(name, model, opset, ops, x32, y, gradient))
    rng = np.random.default_rng(7)
    manual, params = manual_cases(rng)
    params64 = {k: torch.from_numpy(v.astype(np.float32).astype(np.float64)) for k, v in params.items()}
    for name, model, shape, f, ops in manual:
        x32 = rng.standard_normal(shape).astype(np.float32)
        y, gradient = reference(lambda x: f(x, params64), x32)
        cases.append(record(name, model, model.opset_import[0].version, ops, x32, y, gradient))
    for name, (build, shape, message) in REFUSED.items():
        torch.manual_seed(0)
        model = export(build().eval(), torch.randn(*shape).numpy(), 13, False)
        save(name, model)
        refused.append({'name': name, 'error': message})
    with open(os.path.join(OUT, 'cases.json'), 'w') as f:
        json.dump({'cases': cases, 'refused': refused}, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f'{len(cases)} cases, {len(refused)} refusals, {total / 1024:.0f} KiB in {OUT}')


if __name__ == '__main__':
    main()
