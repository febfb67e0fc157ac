import sys, json, time, torch
torch.set_num_threads(1)
from thinklinker.config import get_preset
from thinklinker.data.synth import synthmel
from thinklinker.model.pretrain import tiny_clip
from thinklinker.train.stage1 import stage1_variants
from thinklinker.model.matcher import MatcherConfig, ABLATIONS
p = get_preset('demo'); ds = synthmel('demo', seed=0); enc = tiny_clip(p, seed=0, entities=ds.kb, progress=False)
base = MatcherConfig(text_dim=enc.text_dim, image_dim=enc.image_dim, d=p.d, rank=p.rank)
names = sys.argv[1].split(',')
variants = {n: (base.ablate(n) if n in ABLATIONS else None) for n in names}
variants = {('text-only matcher' if n == 'w/o image' else n): v for n, v in variants.items()}
rows = stage1_variants(ds, enc, p, variants, seeds=(0,), finetune_encoder=(sys.argv[2] == 'ft'), progress=False)
json.dump(rows, open(sys.argv[3], 'w'))
for r in rows:
    if r['tag'] in ('all', 'weak_context', 'text_cue', 'image_global', 'image_local', 'conjunction'):
        print(r['variant'], r['tag'], round(r['H@1'], 1), round(r['MRR'], 1), round(r['seconds']), r['params'])
