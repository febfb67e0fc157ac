"""Demo preset: ThinkLinker stage 1 with the tiny CLIP frozen vs fine-tuned (issue 24), per cue tag, over seeds.

    .venv/bin/python scripts/finetune_vs_frozen.py [--seeds 0 1 2] [--lr-encoder 1e-3 1e-4] [--workers 2] [--out DIR]

Each run is `experiment.cached_stage1` (the stage-1 cache every notebook shares), so the runs that `main_results`
makes with the same settings are reused, and vice versa. Prints H@1 mean ± std per tag and the wall time of each
training run; writes `results.csv` and `finetune_vs_frozen.md` to `--out` (default outputs/finetune_vs_frozen).
"""
import argparse, time, json
from pathlib import Path
import pandas as pd

def unit(seed, variant, lr_encoder=None, threads=1):
    import torch
    from thinklinker.experiments.core import setup_experiment
    from thinklinker.experiments.cache import cached_stage1
    torch.set_num_threads(threads)
    ft = variant != 'frozen'
    ov = {'finetune_encoder': ft, **({'lr_encoder': float(lr_encoder)} if ft and lr_encoder else {})}
    exp = setup_experiment('finetune_vs_frozen', 'demo', seeds=[seed], threads=threads, progress=False, overrides=ov)
    t0 = time.time()
    r = cached_stage1(exp, seed=seed, finetune_encoder=ft, progress=False, desc=variant)
    rows = [{'variant': variant, 'seed': seed, 'tag': t, **m, 'train_seconds': r.seconds, 'cached': r.cached,
             'epochs': len(r.fit.history), 'wall': time.time() - t0} for t, m in r.test.items()]
    return rows

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--lr-encoder', type=float, nargs='+', default=[1e-3, 1e-4])
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    from thinklinker.config import outputs_dir
    from concurrent.futures import ProcessPoolExecutor
    units = [(s, 'frozen', None) for s in a.seeds] + [(s, f'fine-tuned, encoder lr {lr:g}', lr)
                                                      for lr in a.lr_encoder for s in a.seeds]
    t0 = time.time()
    with ProcessPoolExecutor(a.workers) as ex:
        rows = [r for rs in ex.map(unit, *zip(*units)) for r in rs]
    df = pd.DataFrame(rows)
    out = Path(a.out) if a.out else outputs_dir('finetune_vs_frozen')
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / 'results.csv', index=False)
    g = df.groupby(['variant', 'tag'])['H@1']
    t = (g.mean().round(2).astype(str) + ' ± ' + g.std().fillna(0).round(2).astype(str)).unstack('tag')
    tags = ['all'] + sorted(c for c in t.columns if c != 'all')
    t = t[tags]
    secs = df[df.tag == 'all'].groupby('variant')['train_seconds'].agg(['mean', 'std']).round(0)
    t['train s (mean ± std)'] = secs['mean'].astype(int).astype(str) + ' ± ' + secs['std'].fillna(0).astype(int).astype(str)
    t['epochs'] = df[df.tag == 'all'].groupby('variant')['epochs'].apply(lambda s: '/'.join(map(str, s)))
    from thinklinker.experiments.core import md_table
    md = md_table(t)
    (out / 'finetune_vs_frozen.md').write_text(f'# Demo preset, stage 1, H@1 per tag (seeds {a.seeds})\n\n{md}\n')
    print(md); print(f'{len(units)} runs in {time.time() - t0:.0f} s; {out}')
