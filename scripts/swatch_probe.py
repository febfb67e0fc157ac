"""Issue 25: how large may the `local_detail` swatch be and still be a *local* detail? A zero-shot probe on the shipped
demo encoder (no training).

For every group of four namesakes (demo world, seed 0) and every member, a `local_detail`-style mention image (grey
shape + a swatch of the member's banner colour, side `SWATCH` x the image side) is matched against the four KB images:
  global:    cosine of the mention's and the KB image's global vectors (both mean-centred over the KB);
  patch-max: max over the mention's patch tokens of the cosine with the KB image's global vector.
H@1 among the four (the grey shape alone leaves two: 50). Prints one line per swatch size.

Usage: PYTHONPATH=. python scripts/swatch_probe.py 0.1 0.16 0.2 0.25 0.33 0.5
"""
import sys
import numpy as np, torch, torch.nn.functional as F
from PIL import Image
import thinklinker.data.synth as syn
from thinklinker.config import PRESETS
from thinklinker.train.worldclip import encoder_for_preset

def main(sizes):
    torch.set_num_threads(1)
    P = PRESETS['demo']; S = P.image_size
    enc = encoder_for_preset(P, seed=0, progress=False)
    world = syn.make_world(P.n_entities, 0)
    ds = syn.synthmel('demo', 0)                   # the benchmark's KB images, in the world's order
    assert [e.name for e in ds.kb] == [e['name'] for e in world]
    with torch.no_grad(): K = enc.encode_image([Image.open(e.image).convert('RGB') for e in ds.kb])
    mu = K['global'].mean(0)
    kg = F.normalize(K['global'] - mu, dim=-1)
    gold = torch.arange(len(world))
    cand = (gold // 4)[:, None] * 4 + torch.arange(4)
    for size in sizes:
        syn.SWATCH = size
        ims = [syn.render(S, np.random.default_rng([7, i]), e['facts']['shape'], e['facts']['colour'], grey=True,
                          swatch=e['facts']['colour']) for i, e in enumerate(world)]
        with torch.no_grad(): M = enc.encode_image(ims)
        mg = F.normalize(M['global'] - mu, dim=-1)
        pl = F.normalize(M['local'] - M['local'].mean((0, 1)), dim=-1)
        sg = torch.einsum('nd,ncd->nc', mg, kg[cand])
        sp = torch.einsum('npd,ncd->npc', pl, kg[cand]).max(1).values
        h = lambda s: 100 * (s.argmax(1) == gold % 4).float().mean().item()
        print(f'swatch {size:g}: global H@1 {h(sg):.1f}  patch-max H@1 {h(sp):.1f}', flush=True)

if __name__ == '__main__':
    main([float(x) for x in sys.argv[1:]] or [syn.SWATCH])
