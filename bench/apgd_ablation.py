"""Why our APGD-CE and torchattacks' differ: a Python port of src/core/attacks/apgd.ts (apgdRun, one
restart) on the LayersModel loaded into PyTorch (bench/peer_check.py's loader), with one switch per
difference between the two, so that each can be turned on alone on the same images and start points.

  loss='unmasked'     ours: −log softmax(z)_y computed without rounding, its exact gradient direction
  loss='torch32'      the peer's: torch's float32 cross-entropy (value 0 and p_y = 1 on confident samples)
  loss='direction32'  the peer's gradient with our value;  loss='flat': our gradient with the peer's value
  relative=False      ε absolute instead of ε·‖x‖∞
  cond2_first=False   condition 2 cannot halve at the first checkpoint (the peer starts "just halved")
  first_cmp_zero=True the first step's loss is compared with 0, not the start's (the peer's loss_steps[-1])
  le=True             condition 1 halves at ≤ ρ·k increases (the peer), not < ρ·k (the paper)

Run with Debian's PyTorch: /usr/bin/python3 bench/apgd_ablation.py models/mnist-gccs 500 0.1 "loss='unmasked';loss='torch32'"
(model folder, first N test images from 8000, ε, variants separated by ';', each switches key=value joined by ','). Prints the accuracy per variant.
"""
import ast
import os
import sys
import time

import torch
import torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_check import load_layers_model, mnist

class UnmaskedCE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, y):
        ctx.save_for_backward(z, y)
        onehot = F.one_hot(y, z.shape[1]).bool()
        own = z.gather(1, y[:, None])
        return F.softplus(torch.logsumexp((z - own).masked_fill(onehot, -float('inf')), 1))
    @staticmethod
    def backward(ctx, dy):
        z, y = ctx.saved_tensors
        onehot = F.one_hot(y, z.shape[1]).bool()
        runner = z.masked_fill(onehot, -float('inf')).max(1, keepdim=True)[0]
        others = torch.exp(z - runner).masked_fill(onehot, 0)
        direction = others - onehot.float() * others.sum(1, keepdim=True)
        return direction * dy[:, None], None

def loss_fn(kind):
    if kind == 'unmasked': return lambda z, y: UnmaskedCE.apply(z, y)
    if kind == 'torch32': return lambda z, y: F.cross_entropy(z, y, reduction='none')
    if kind == 'direction32':  # torch's float32 CE gradient, the exact value
        return lambda z, y: UnmaskedCE.apply(z, y).detach() + (lambda c: c - c.detach())(F.cross_entropy(z, y, reduction='none'))
    if kind == 'flat':  # the exact direction, torch's float32 CE value (0 on confident samples)
        return lambda z, y: F.cross_entropy(z, y, reduction='none').detach() + (lambda u: u - u.detach())(UnmaskedCE.apply(z, y))
    raise ValueError(kind)

def checkpoints(n):
    """apgdCheckpoints: w_j = ⌈p_j·n⌉, in hundredths."""
    out = []; prev, p = 0, 22
    while -(-p * n // 100) <= n:
        w = -(-p * n // 100)
        if w > (out[-1] if out else 0): out.append(w)
        prev, p = p, p + max(p - prev - 3, 6)
    return out

def proj(c, x, r): return torch.clamp(torch.min(torch.max(c, x - r), x + r), 0, 1)

def run(model, x, y, eps, n=100, loss='unmasked', relative=True, first_cmp_zero=False, cond2_first=True, le=False, seed=0):
    B = len(y); lf = loss_fn(loss)
    r = (eps * x.amax(dim=(1, 2, 3), keepdim=True)) if relative else torch.full((B, 1, 1, 1), eps)
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(x.shape, generator=g) * 2 - 1
    def lg(p):
        p = p.detach().requires_grad_()
        z = model(p); l = lf(z, y)
        gr, = torch.autograd.grad(l.sum(), [p])
        return z.detach(), l.detach(), gr.detach()
    start = proj(x + r * u, x, r)
    z, l, gr = lg(start)
    fooled = z.argmax(1) != y
    cur, prev, grad = start, start.clone(), gr
    best, bestpt, bestgrad = l.clone(), start.clone(), gr.clone()
    step = 2 * r.clone()
    last = l.clone(); bestcheck = l.clone(); halved = torch.zeros(B, dtype=torch.bool) if cond2_first else torch.ones(B, dtype=torch.bool)
    inc = torch.zeros(B); lastcp = 0; cps = set(checkpoints(n))
    for it in range(1, n + 1):
        a = 1.0 if it == 1 else 0.75
        plain = proj(cur + step * torch.sign(grad), x, r)
        nxt = proj(cur + a * (plain - cur) + (1 - a) * (cur - prev), x, r)
        z, l, g2 = lg(nxt)
        inc += (l > (torch.zeros_like(l) if (first_cmp_zero and it == 1) else last)).float()
        imp = l > best
        best = torch.where(imp, l, best); bestpt[imp] = nxt[imp]; bestgrad[imp] = g2[imp]
        last = l
        fooled |= z.argmax(1) != y
        prev, cur, grad = cur, nxt, g2
        if it in cps:
            k = it - lastcp
            c1 = (inc <= 0.75 * k) if le else (inc < 0.75 * k)
            h = c1 | (~halved & (bestcheck >= best))
            step[h] /= 2
            halved = h.clone(); bestcheck = best.clone(); inc = torch.zeros(B); lastcp = it
            cur = cur.clone(); grad = grad.clone()
            cur[h] = bestpt[h]; grad[h] = bestgrad[h]
    return fooled

if __name__ == '__main__':
    torch.set_num_threads(1)
    model_dir, N, eps = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    variants = sys.argv[4].split(';')
    model = load_layers_model(model_dir)
    for p in model.parameters(): p.requires_grad_(False)
    x, y = mnist(os.environ.get('MNIST', '/work/shared/data/mnist-t10k'), 8000, N)
    with torch.no_grad(): clean = model(x).argmax(1) == y
    for v in variants:
        kw = {key.strip(): ast.literal_eval(value) for key, value in (part.split('=', 1) for part in v.split(',') if part.strip())}
        t = time.time(); robust = 0
        for i in range(0, N, 100):
            f = run(model, x[i:i+100], y[i:i+100], eps, **kw)
            robust += (clean[i:i+100] & ~f).sum().item()
        print(f'port {v}: {robust/N:.2%} ({time.time()-t:.0f}s)', flush=True)
