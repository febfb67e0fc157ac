"""Issue 25: stage-1 variants on the real SynthMEL demo benchmark, with the training length as a parameter.

Trains the stage-1 matcher (frozen demo encoder, demo sizes) for each variant and seed with `--epochs` epochs and
`--patience` (a patience >= epochs and `--no_plateau` turn early stopping and the lr plateau off), and prints the
test H@1 per SynthMEL cue tag, with CLIP zero-shot on the same candidates. No cache is read or written.

Usage: PYTHONPATH=. python scripts/mech_real.py --epochs 30 --patience 30 --no_plateau --seeds 0 \
          --variants 'ThinkLinker (full)' 'w/o local' 'w/o cross-modal' [--out res.jsonl]
"""
from __future__ import annotations
import argparse, json, time
from dataclasses import replace
import torch

def h1(res: dict) -> dict:
    "Test H@1 per tag ('all' and each cue tag) of a by-tag `evaluate_scores` result, rounded."
    return {k: round(float(m['H@1']), 1) for k, m in res.items() if isinstance(m, dict) and 'H@1' in m}

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--preset', default='demo')
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--variants', nargs='+', default=['ThinkLinker (full)', 'w/o local', 'w/o cross-modal'])
    p.add_argument('--epochs', type=int, default=None)
    p.add_argument('--patience', type=int, default=None)
    p.add_argument('--no_plateau', action='store_true')
    p.add_argument('--lr', type=float, default=None)
    p.add_argument('--shares', default=None, help='JSON: CUE_SHARES overrides, e.g. {"image_local": 0.5}')
    p.add_argument('--n_mentions', type=int, default=None)
    p.add_argument('--only_tag', default=None, help='keep only the mentions with this cue tag, in every split')
    p.add_argument('--out', default=None)
    a = p.parse_args()
    torch.set_num_threads(1)
    import thinklinker.data.synth as synth
    if a.shares: synth.CUE_SHARES.update(json.loads(a.shares))   # use a fresh THINKLINKER_OUTPUTS per share setting
    from thinklinker.experiments.core import setup_experiment
    from thinklinker.model.matcher import MatcherConfig
    from thinklinker.train.stage1 import train_stage1
    from thinklinker.eval.predict import zero_shot_scores, evaluate_scores
    exp = setup_experiment('mech_real', a.preset, 'synthmel', None, [0], None, 1, progress=False,
                           overrides={'n_mentions': a.n_mentions} if a.n_mentions else None)
    P = exp.P
    if a.only_tag:
        for k in list(exp.ds.splits): exp.ds.splits[k] = [m for m in exp.ds.splits[k] if a.only_tag in m.tags]
    ov = {}
    if a.epochs: ov['epochs_stage1'] = a.epochs
    if a.patience: ov['patience'] = a.patience
    if a.no_plateau: ov['lr_plateau'] = None
    if a.lr: ov['lr_stage1'] = a.lr
    P = replace(P, **ov)
    base = MatcherConfig(text_dim=exp.enc.text_dim, image_dim=exp.enc.image_dim, d=P.d, rank=P.rank)
    zs_done = False
    for seed in a.seeds:
        for v in a.variants:
            t = time.time()
            r = train_stage1(exp.ds, exp.enc, P, base.ablate(v), seed=seed, progress=False, desc=v)
            row = {'variant': v, 'seed': seed, 'shares': a.shares, 'n_mentions': a.n_mentions, 'only_tag': a.only_tag, 'epochs': a.epochs, 'patience': a.patience, 'plateau': not a.no_plateau,
                   'best_epoch': r.fit.best_epoch, 'epochs_run': len(r.fit.history),
                   's': round(time.time() - t, 1), **h1(r.test)}
            print(json.dumps(row), flush=True)
            if a.out: open(a.out, 'a').write(json.dumps(row) + '\n')
            if not zs_done:
                c = r.cands['test']
                zs = evaluate_scores(zero_shot_scores(r.src, 'test', c), c, by_tag=True)
                print(json.dumps({'variant': 'zero_shot', **h1(zs)}), flush=True)
                zs_done = True

if __name__ == '__main__': main()
