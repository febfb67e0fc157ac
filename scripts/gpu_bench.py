"""ViT-B-32 feature throughput and a paper-configuration stage-1 step (low-rank vs tensor fusion: time, peak memory).
Usage: .venv/bin/python scripts/gpu_bench.py [--device cuda|cpu]   (default: cuda when present)"""
import os, sys, time, json, argparse, torch
sys.path.insert(0, os.getcwd())
_ap = argparse.ArgumentParser(description=__doc__); _ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
DEVICE = _ap.parse_args().device
CUDA = DEVICE.startswith('cuda')
from thinklinker.model.clip import ClipEncoder
from thinklinker.model.matcher import Matcher, MatcherConfig, matcher_loss
from thinklinker.model.fusion import count_params
dev = torch.device(DEVICE); torch.manual_seed(0)
out = {'device': torch.cuda.get_device_name(dev) if CUDA else DEVICE, 'torch': torch.__version__}
def _reset_peak():
    if CUDA: torch.cuda.reset_peak_memory_stats()
def _peak() -> float: return torch.cuda.max_memory_allocated() if CUDA else float('nan')
def _sync():
    if CUDA: torch.cuda.synchronize()
def timeit(fn, n=20, warm=3):
    for _ in range(warm): fn()
    _sync(); t = time.perf_counter()
    for _ in range(n): fn()
    _sync(); return (time.perf_counter() - t) / n
enc = ClipEncoder('ViT-B-32', pretrained='random', device=DEVICE)
out['vitb32_params_M'] = sum(p.numel() for p in enc.parameters()) / 1e6
texts = ['Apple. Shares of Apple rose on Monday after the company reported record iPhone sales in the quarter.'] * 256
ids = enc.tokenize(texts); x = torch.randn(256, 3, 224, 224, device=dev)
for prec in ('fp32', 'bf16'):
    ctx = torch.autocast(dev.type, dtype=torch.bfloat16) if prec == 'bf16' else torch.autocast(dev.type, enabled=False)
    with torch.no_grad(), ctx:
        ti = timeit(lambda: enc.encode_image_tensor(x)); tt = timeit(lambda: enc.encode_text(texts))
    out[f'encode_{prec}_images_per_s_b256'] = round(256 / ti); out[f'encode_{prec}_texts_per_s_b256'] = round(256 / tt)
# stage-1 step, paper config, encoder fine-tuned, B=32 mentions x C=16 candidates (all distinct entities)
B, C = 32, 16
for fusion in ('lowrank', 'tensor'):
    cfg = MatcherConfig(text_dim=512, image_dim=512, d=256, rank=4, fusion=fusion)
    m = Matcher(cfg).to(dev)
    out[f'matcher_{fusion}_params'] = count_params(m)
    out[f'towers_{fusion}_params'] = count_params(m.towers)
    enc.train(); [p.requires_grad_(True) for p in enc.parameters()]
    opt = torch.optim.AdamW(list(m.parameters()) + list(enc.parameters()), lr=1e-5)
    n = B + B * C
    tx = ['mention text number %d about something' % i for i in range(n)]
    img = torch.randn(n, 3, 224, 224, device=dev)
    gold = torch.zeros(B, dtype=torch.long, device=dev)
    cand = torch.arange(B * C, device=dev).view(B, C)
    def step():
        with torch.autocast(dev.type, dtype=torch.bfloat16):
            t = enc.encode_text(tx); v = enc.encode_image_tensor(img)
            f = {'text_local': t['local'], 'text_mask': t['mask'], 'text_global': t['global'],
                 'image_local': v['local'], 'image_global': v['global'], 'image_present': v['present']}
            men = {k: vv[:B] for k, vv in f.items()}; ent = {k: vv[B:] for k, vv in f.items()}
            s = m(men, ent, cand)
            loss = matcher_loss({k: vv.float() for k, vv in s.items()}, gold)
        opt.zero_grad(); loss.backward(); opt.step()
    _reset_peak()
    dt = timeit(step, n=10, warm=2)
    out[f'stage1_step_{fusion}_s'] = round(dt, 4); out[f'stage1_step_{fusion}_peak_GiB'] = round(_peak() / 2**30, 2)
    # matcher only on frozen features (stage 2 / cached mode), fp32
    enc.eval(); [p.requires_grad_(False) for p in enc.parameters()]
    with torch.no_grad():
        t = enc.encode_text(tx); v = enc.encode_image_tensor(img)
    f = {'text_local': t['local'].float(), 'text_mask': t['mask'], 'text_global': t['global'].float(),
         'image_local': v['local'].float(), 'image_global': v['global'].float(), 'image_present': v['present']}
    men = {k: vv[:B] for k, vv in f.items()}; ent = {k: vv[B:] for k, vv in f.items()}
    opt2 = torch.optim.AdamW(m.parameters(), lr=1e-4)
    def mstep():
        loss = matcher_loss(m(men, ent, cand), gold); opt2.zero_grad(); loss.backward(); opt2.step()
    _reset_peak()
    out[f'matcher_only_step_{fusion}_ms'] = round(1000 * timeit(mstep, n=30), 2)
    out[f'matcher_only_{fusion}_peak_GiB'] = round(_peak() / 2**30, 3)
    del m, opt, opt2; (torch.cuda.empty_cache() if CUDA else None)
print(json.dumps(out, indent=1))
json.dump(out, open(os.path.join(os.environ.get('OUT', '.'), 'gpu_bench.json'), 'w'), indent=1)
