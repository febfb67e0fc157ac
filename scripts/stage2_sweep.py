"""Demo preset, simulated LLM: stage 1 (frozen and fine-tuned encoder), the R = 0..5 curve and the ANW x RGA grid.
Usage: OUT=DIR .venv/bin/python scripts/stage2_sweep.py [--device cuda|cpu]   (default: cuda when present)"""
import os, sys, time, json, argparse, torch
sys.path.insert(0, os.getcwd())
_ap = argparse.ArgumentParser(description=__doc__); _ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
DEVICE = _ap.parse_args().device
from thinklinker.config import get_preset, seed_everything
from thinklinker.data.synth import synthmel
from thinklinker.model.pretrain import tiny_clip
from thinklinker.train.stage1 import train_stage1
from thinklinker.model.source import FeatureSource
from thinklinker.eval.predict import zero_shot_scores, evaluate_scores
from thinklinker.dialogue.infusion import stage1_rankings, answer_features, train_stage2, WEIGHTINGS, AGGREGATIONS
from thinklinker.dialogue.core import run_dialogue
from thinklinker.dialogue.local import SimulatedLLM
OUT = os.environ.get('OUT', '.'); res = {}
def dump(): json.dump(res, open(os.path.join(OUT, 'stage2_sweep.json'), 'w'), indent=1)
def pick(t): return {k: {m: round(v, 2) for m, v in t[k].items()} for k in ('all', 'weak_context') if k in t}
p = get_preset('demo'); t0 = time.time()
ds = synthmel('demo', seed=0); enc = tiny_clip(p, seed=0, entities=ds.kb, device=DEVICE, progress=False)
res['setup_s'] = round(time.time() - t0, 1)
t = time.time(); s1 = train_stage1(ds, enc, p, seed=0, finetune_encoder=False, progress=False)
res['stage1_frozen'] = pick(s1.test); res['stage1_frozen_s'] = round(time.time() - t, 1); dump(); print('s1', res['stage1_frozen'], flush=True)
sim = SimulatedLLM(ds.root / 'knowledge.json', mentions=ds.mentions(), knowledge_rate=0.8, hallucination_rate=0.1, seed=0)
t = time.time(); ranks = stage1_rankings(s1, ds)
ms = [m for s in ('train', 'dev', 'test') for m in ds.splits[s]]
run = run_dialogue(ms, ds.kb, ranks, sim, rounds=5, cache=None, concurrency=8, progress=False)
res['dialogue_R5_s'] = round(time.time() - t, 1); res['dialogue_stats'] = {k: v for k, v in run.stats.items() if isinstance(v, (int, float, str))}
dump(); print('dialogue', res['dialogue_R5_s'], flush=True)
ans = {R: {s: answer_features(run.records, s1.cands[s].mention_ids, R, enc, progress=False) for s in ('train', 'dev', 'test')} for R in range(6)}
res['R_curve'] = {}
for R in range(6):
    t = time.time(); s2 = train_stage2(s1, ds, ans[R], p, seed=0, progress=False)
    res['R_curve'][R] = dict(pick(s2.test), seconds=round(time.time() - t, 1)); dump(); print('R', R, res['R_curve'][R], flush=True)
res['grid_R3'] = {}
for w in WEIGHTINGS:
    for a in AGGREGATIONS:
        s2 = train_stage2(s1, ds, ans[3], p, weighting=w, aggregation=a, seed=0, progress=False)
        res['grid_R3'][f'{w}|{a}'] = pick(s2.test); dump(); print(w, a, res['grid_R3'][f'{w}|{a}'], flush=True)
# the paper's stage 1: encoder fine-tuned
t = time.time(); s1ft = train_stage1(ds, enc, p, seed=0, finetune_encoder=True, progress=False)
res['stage1_finetuned'] = pick(s1ft.test); res['stage1_finetuned_s'] = round(time.time() - t, 1)
res['stage1_finetuned_epochs'] = len(s1ft.fit.history); dump(); print('s1ft', res['stage1_finetuned'], flush=True)
res['total_s'] = round(time.time() - t0, 1); dump()
