"""Bit-identity digests of smoke-preset stage-1 / stage-2 results, independent of the package layout: functions are
found by name in whatever module exports them, so the same script runs before and after a refactoring.
Usage: THINKLINKER_OUTPUTS=$(mktemp -d) python scripts/layout_digests.py > digests.txt   (then diff two such files)"""
import json, importlib, pkgutil, sys, os, torch
import thinklinker
MODS = {}
for m in pkgutil.walk_packages(thinklinker.__path__, 'thinklinker.'):
    if m.name.endswith('_modidx') or m.name.endswith('cli'): continue
    MODS[m.name] = importlib.import_module(m.name)
def find(name):
    hits = [getattr(m, name) for k, m in sorted(MODS.items()) if name in getattr(m, '__all__', [])]
    assert hits, name
    return hits[0]
torch.set_num_threads(2)
td = find('tensor_digest')
def sd(model): return {k: v for k, v in model.state_dict().items()}
out = []
unit_experiment, run_pipeline = find('unit_experiment'), find('run_pipeline')
exp = unit_experiment('digest', 0, preset='smoke')
r = run_pipeline(exp, 0)
out.append(('stage1 scores', td({'s': r.stage1.test_scores})))
out.append(('stage1 weights', td(sd(r.stage1.model))))
out.append(('stage1 test', json.dumps(r.stage1.test, sort_keys=True, default=str)))
out.append(('answers', td({f'{sp}.{k}': v for sp, a in r.answers.items() for k, v in a.feats.items()})))
out.append(('stage2 scores', td({'s': r.stage2.test_scores})))
out.append(('stage2 weights', td(sd(r.stage2.model))))
cached_stage1 = find('cached_stage1')
for proto in ('whole_kb', 'name_topk'):
    s = cached_stage1(exp, seed=0, protocol=proto, progress=False)
    out.append((f'stage1 {proto} scores', td({'s': s.test_scores})))
s = cached_stage1(exp, seed=1, finetune_encoder=True, progress=False)
out.append(('stage1 finetuned scores', td({'s': s.test_scores})))
out.append(('stage1 finetuned encoder', td(sd(s.src.encoder))))
for k, v in out: print(f'{k:28s} {v}')
