"""PyTorch 1.13 per-layer reference for the ResNet-18 fixture (issue 9 prediction): per conv, log10 weight-gradient
norm over the linear layer's, the output-gradient total G, and how the measured norm compares with G*fan_in*q_in
(coh(q)) and G*fan_in*var_in (coh(var)); 5 seeds, batch 8, cross-entropy. Run: /usr/bin/python3 scripts/reference/resnet18_layers.py
Output committed beside it (resnet18_layers.txt)."""
import os, sys, types, math, collections
sys.modules['torchvision'] = types.ModuleType('torchvision'); tv = sys.modules['torchvision']
tv.transforms = types.SimpleNamespace(Compose=lambda *a, **k: None, RandomCrop=lambda *a, **k: None, ToTensor=lambda *a, **k: None)
tv.datasets = types.SimpleNamespace(CIFAR10=lambda *a, **k: [])
sys.modules['torchvision.transforms'] = tv.transforms
import torch, torch.nn as nn
src = open(os.path.join(os.path.dirname(__file__), '../../test/fixtures/probe/torch_resnet18_cifar.py')).read().split('transform = transforms')[0]
ns = {}; exec(src, ns)
B = int(sys.argv[1]) if len(sys.argv) > 1 else 8
acc = collections.defaultdict(lambda: collections.defaultdict(list))
for seed in range(5):
    torch.manual_seed(seed)
    m = ns['ResNet18']()
    store = {}
    def mk(name, mod):
        def fwd(mod, inp, out):
            x = inp[0].detach()
            store[name] = {'q_in': (x**2).mean().item(), 'var_in': x.var(dim=(0,2,3) if x.dim()==4 else 0, unbiased=False).mean().item(), 'mean_in': x.mean().item(), 'q_out': (out.detach()**2).mean().item()}
            out.register_hook(lambda g: store[name].__setitem__('G', (g**2).sum().item()))
        return fwd
    for name, mod in m.named_modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear, nn.BatchNorm2d)):
            mod.register_forward_hook(mk(name, mod))
    x = torch.randn(B, 3, 32, 32); y = torch.randint(0, 10, (B,))
    nn.functional.cross_entropy(m(x), y).backward()
    lin = m.linear.weight.grad.norm().item()**2 + m.linear.bias.grad.norm().item()**2
    Glin = store['linear']['G']
    for name, mod in m.named_modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            s = store[name]
            fan_in = mod.weight[0].numel()
            n2 = mod.weight.grad.norm().item()**2
            if mod.bias is not None: n2 += mod.bias.grad.norm().item()**2
            a = acc[name]
            a['ratio'].append(0.5*math.log10(n2/lin))
            a['G'].append(math.log10(s['G']/Glin))
            a['coh_q'].append(math.log10(n2/(s['G']*fan_in*s['q_in'])))
            a['coh_v'].append(math.log10(n2/(s['G']*fan_in*s['var_in'])))
            a['q_in'].append(s['q_in']); a['var_in'].append(s['var_in'])
        if isinstance(mod, nn.BatchNorm2d):
            s = store[name]; a = acc[name]
            a['G'].append(math.log10(s['G']/Glin)); a['var_in'].append(s['var_in']); a['q_in'].append(s['q_in'])
avg = lambda v: sum(v)/len(v)
print('name                 log10ratio  log10G(out)/Glin  coh(q)  coh(var)  q_in   var_in')
for k, a in acc.items():
    print(f"{k:22s} {avg(a['ratio']) if a['ratio'] else float('nan'):7.2f} {avg(a['G']):9.2f} {avg(a['coh_q']) if a['coh_q'] else float('nan'):9.2f} {avg(a['coh_v']) if a['coh_v'] else float('nan'):7.2f} {avg(a['q_in']):7.3f} {avg(a['var_in']):7.3f}")
