"""Digests of every intermediate of ONE seed of main_results' stage-1 -> dialogue -> stage-2 pipeline (issue 27 item 1),
to find the first step where two machines (or two CPU settings on one machine) disagree.

Usage (from the repository root, the project's Python):
  python scripts/stage2_trace.py --preset demo --seed 0 --out A.json [--threads 1] [--part both|thinklinker|official]
  python scripts/stage2_trace.py --compare A.json B.json
Each run uses a fresh, empty THINKLINKER_OUTPUTS folder (a temporary one unless --outputs DIR is given, which must be
empty): every cache (features, stage 1, stage 2, LLM responses) is cold, so no cache can hide a difference. SynthMEL is
generated there and the shipped world-CLIP weights are used; nothing is read from outputs/. The simulated LLM answers.
Same library functions as `main_results_seed` ('thinklinker' part: the base matcher, the paper's stage 2; 'official'
part: the official-code preset at `--official-rank`, 32 on the demo as main_results). Environment knobs to compare:
ATEN_CPU_CAPABILITY=avx2|default, THINKLINKER_DEVICE=cpu, --threads N (torch.set_num_threads, as main_results' `threads`).
Needs none of anthropic, openai, faiss, papermill, ipywidgets."""
import argparse, hashlib, json, math, os, sys, tempfile, time
from pathlib import Path


def _sha(obj) -> str:
    "sha256 (20 hex) of canonical JSON."
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:20]


def _stats(t) -> dict:
    "A few numbers of a tensor (sum, abs sum, first values) so that two runs' tensors can be compared without storing them."
    import torch
    t = t.detach().cpu()
    if t.dtype == torch.bool or not t.is_floating_point(): t = t.double()
    f = t.double().flatten()
    fin = f[torch.isfinite(f)]
    return {'shape': list(t.shape), 'sum': float(fin.sum()) if fin.numel() else 0.0,
            'abs_sum': float(fin.abs().sum()) if fin.numel() else 0.0, 'head': [float(x) for x in f[:8]]}


class Trace:
    def __init__(self): self.steps = []

    def tensors(self, name: str, d: dict, keep_values: bool = False):
        "A digest step of a dict of tensors; `keep_values`: the whole tensor(s) kept too (scores), for max abs diff."
        from thinklinker.config import tensor_digest
        step = {'name': name, 'kind': 'tensors', 'digest': tensor_digest(d),
                'stats': {k: _stats(v) for k, v in sorted(d.items())}}
        if keep_values: step['values'] = {k: _floats(v) for k, v in sorted(d.items())}
        self.steps.append(step)
        return step

    def json(self, name: str, obj, keep: bool = False):
        step = {'name': name, 'kind': 'json', 'digest': _sha(obj)}
        if keep: step['values'] = obj
        self.steps.append(step)
        return step

    def values(self, name: str, obj):
        "A step compared by value (losses, metrics: full float repr)."
        self.steps.append({'name': name, 'kind': 'values', 'digest': _sha(obj), 'values': obj})


def _floats(t) -> list:
    return [None if not math.isfinite(x) else x for x in t.detach().cpu().double().flatten().tolist()]


def _history(fit) -> list:
    "Per-epoch loss and dev metrics (wall time left out)."
    return [{k: v for k, v in row.items() if k != 'seconds'} for row in (fit.history if fit else [])]


def _gold_ranks(scores, cands) -> list:
    from thinklinker.eval.metrics import ranks
    has = cands.gold >= 0
    r = [-1] * len(cands.gold)
    if has.any():
        rr = ranks(scores[has], cands.gold[has], cands.mask[has]).tolist()
        for i, v in zip(has.nonzero().flatten().tolist(), rr): r[i] = float(v)
    return r


def trace_pipeline(T: Trace, exp, seed: int, label: str, cfg, stage2_kw: dict, rounds=None):
    """The steps of `run_pipeline` (stage 1 through its cache, which is cold here) -> `dialogue_stage2`, digested."""
    import copy, torch
    from thinklinker.config import seed_everything
    from thinklinker.experiments.runs import run_pipeline
    from thinklinker.dialogue.infusion import stage1_rankings, Stage2Model, answer_texts
    from thinklinker.eval.predict import predict_scores
    from thinklinker.model.fusion import count_params
    p = f'{label}: '
    t0 = time.time()
    r = run_pipeline(exp, seed, cfg, rounds=rounds, llm='simulated', **stage2_kw)
    secs = time.time() - t0
    s1, s2, run, ans = r.stage1, r.stage2, r.run, r.answers
    src = s1.src
    # stage-1 features (mention and entity), as the frozen encoder gave them
    for w in ('kb', 'train', 'dev', 'test'): T.tensors(f'{p}stage-1 features {w}', src.frozen(w))
    T.values(f'{p}stage-1 fit history (loss, dev metrics per epoch)', _history(s1.fit))
    T.values(f'{p}stage-1 best epoch', s1.fit.best_epoch if s1.fit else None)
    T.tensors(f'{p}stage-1 weights', s1.model.state_dict())
    T.tensors(f'{p}stage-1 test scores', {'s': s1.test_scores}, keep_values=True)
    for sp in ('train', 'dev'):
        T.tensors(f'{p}stage-1 {sp} scores', {'s': predict_scores(s1.model, src, sp, s1.cands[sp])})
    T.values(f'{p}stage-1 test gold ranks', _gold_ranks(s1.test_scores, s1.cands['test']))
    T.values(f'{p}stage-1 test metrics', s1.test)
    for sp in ('train', 'dev', 'test'):
        c = s1.cands[sp]
        T.tensors(f'{p}candidates {sp}', {'cand': c.cand, 'mask': c.mask, 'gold': c.gold})
    R = len({x['round'] for x in run.records}) if run.records else 0
    rk = stage1_rankings(s1, exp.ds)
    T.json(f'{p}stage-1 top-{R} lists handed to the dialogue', {m: v[:R] for m, v in sorted(rk.items())}, keep=True)
    T.json(f'{p}full stage-1 rankings', {m: v for m, v in sorted(rk.items())})
    recs = [{k: x[k] for k in ('mention_id', 'round', 'candidate')} for x in run.records]
    T.json(f'{p}dialogue (mention, round, candidate)', recs)
    T.json(f'{p}dialogue questions', [x['question'] for x in run.records])
    T.json(f'{p}dialogue answers', {f"{x['mention_id']}|{x['round']}": x['answer'] for x in run.records}, keep=True)
    T.json(f'{p}dialogue flags', [x['flags'] for x in run.records])
    T.values(f'{p}dialogue stats', {k: v for k, v in run.stats.items()
                                     if k not in ('calls', 'cache_hits', 'calls_per_mention')})   # not cache accounting
    fmt = stage2_kw.get('answer_format', 'answer')
    mentions = {m.id: m for s in ('train', 'dev', 'test') for m in exp.ds.splits[s]}
    for sp in ('train', 'dev', 'test'):
        tx = answer_texts(run.records, s1.cands[sp].mention_ids, R, fmt, mentions)
        T.json(f'{p}answer texts {sp}', sorted([f'{k[0]}|{k[1]}', v] for k, v in tx.items()))
    for sp, a in ans.items(): T.tensors(f'{p}answer features {sp}', a.feats)
    # the stage-2 model as train_stage2 builds it (same seeding), and the fused features it starts from
    seed_everything(seed)
    m0 = Stage2Model(copy.deepcopy(s1.model), src.encoder.embed_dim, s2.model.infusion.weighting,
                     s2.model.infusion.aggregation).to(src.encoder.device).eval()
    T.tensors(f'{p}stage-2 initial weights', m0.state_dict())
    for tag, model in (('initial', m0), ('trained', s2.model)):
        was = model.training
        model.eval()
        with torch.no_grad():
            for sp in ('train', 'dev', 'test'):
                n = len(s1.cands[sp].gold)
                men = src.get(sp, torch.arange(n))
                fused, w = model.infusion(men, {k: v.to(men['text_global'].device) for k, v in ans[sp].feats.items()})
                T.tensors(f'{p}stage-2 fused features {sp} ({tag} model)',
                          {k: fused[k] for k in ('text_global', 'text_local', 'text_mask')})
                T.tensors(f'{p}stage-2 answer weights {sp} ({tag} model)', {'w': w})
        model.train(was)
    T.values(f'{p}stage-2 fit history (loss, dev metrics per epoch)', _history(s2.fit))
    T.values(f'{p}stage-2 best epoch', s2.fit.best_epoch if s2.fit else None)
    T.tensors(f'{p}stage-2 weights', s2.model.state_dict())
    T.tensors(f'{p}stage-2 test scores', {'s': s2.test_scores}, keep_values=True)
    T.values(f'{p}stage-2 test gold ranks', _gold_ranks(s2.test_scores, s1.cands['test']))
    T.values(f'{p}stage-2 test metrics', s2.test)
    T.values(f'{p}params', [count_params(s1.model), count_params(s2.model)])
    return secs


def run_trace(args) -> dict:
    out_root = Path(args.outputs) if args.outputs else Path(tempfile.mkdtemp(prefix='stage2_trace.'))
    if out_root.exists() and any(out_root.iterdir()): sys.exit(f'--outputs {out_root} is not empty (cold caches needed)')
    out_root.mkdir(parents=True, exist_ok=True)
    os.environ['THINKLINKER_OUTPUTS'] = str(out_root)
    t0 = time.time()
    import torch
    from thinklinker.config import machine_info, tensor_digest, git_commit
    from thinklinker.experiments.runs import unit_experiment, code_preset, official_label
    from thinklinker.model.matcher import MatcherConfig
    from thinklinker.dialogue.infusion import STAGE2_PRESETS
    T = Trace()
    exp = unit_experiment('stage2_trace', args.seed, args.preset, threads=args.threads, out_dir=out_root / 'stage2_trace')
    if args.threads: torch.set_num_threads(args.threads)
    P, ds, enc = exp.P, exp.ds, exp.enc
    info = {'machine': machine_info(), 'torch_threads': torch.get_num_threads(),
            'torch_interop_threads': torch.get_num_interop_threads(),
            'env': {k: os.environ.get(k) for k in ('ATEN_CPU_CAPABILITY', 'THINKLINKER_DEVICE', 'OMP_NUM_THREADS',
                                                   'MKL_NUM_THREADS', 'PYTHONHASHSEED')},
            'commit': git_commit(), 'preset': P.name, 'seed': args.seed, 'part': args.part, 'outputs': str(out_root)}
    T.values('preset', P.to_dict())
    T.json('dataset (mention ids, gold, text per split; KB qids)',
           {'kb': [(e.qid, e.name, e.desc) for e in ds.kb],
            **{s: [(m.id, m.gold, m.mention, m.sentence) for m in ms] for s, ms in ds.splits.items()}})
    from thinklinker.model.features import corpus_fingerprint
    T.json('dataset images (file bytes)', {w: corpus_fingerprint(None, [x.image for x in xs])
                                           for w, xs in [('kb', ds.kb), *sorted(ds.splits.items())]})
    kj = Path(ds.root) / 'knowledge.json'     # the simulated LLM's world: only stage 2 reads it
    T.json('knowledge.json (the simulated LLM\'s facts)', json.loads(kj.read_text()) if kj.exists() else None)
    T.tensors('encoder weights', enc.state_dict())
    setup = time.time() - t0
    base = MatcherConfig(text_dim=enc.text_dim, image_dim=enc.image_dim, d=P.d, rank=P.rank)
    secs = {'setup': setup}
    if args.part in ('both', 'thinklinker'):
        secs['thinklinker'] = trace_pipeline(T, exp, args.seed, 'thinklinker', base, dict(
            STAGE2_PRESETS['paper'], dialogue_file=f'dialogue-s{args.seed}.jsonl'))
    if args.part in ('both', 'official'):
        rank = args.official_rank if args.official_rank else (32 if P.name == 'demo' else None)
        pp = code_preset('official', base, **({'rank': int(rank)} if rank else {}))
        cfg = pp.pop('cfg')
        secs['official'] = trace_pipeline(T, exp, args.seed, f'official (rank {cfg.rank})', cfg,
                                          dict(pp, dialogue_file=f'dialogue-official-s{args.seed}.jsonl'))
    info['seconds'] = {k: round(v, 1) for k, v in secs.items()}
    info['seconds']['total'] = round(time.time() - t0, 1)
    return {'info': info, 'steps': T.steps}


def _maxdiff(a, b):
    "Max abs difference of two value structures of the same shape (None if they differ in shape or are not numbers)."
    if isinstance(a, bool) or isinstance(b, bool): return 0.0 if a == b else None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)): return abs(a - b)
    if a is None and b is None: return 0.0
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b): return None
        ds = [_maxdiff(a[k], b[k]) for k in a]
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b): return None
        ds = [_maxdiff(x, y) for x, y in zip(a, b)]
    else: return 0.0 if a == b else None
    if any(d is None for d in ds): return None
    return max(ds, default=0.0)


def _n_diff(a, b):
    "Number of differing leaves of two lists (for ranks)."
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b): return sum(x != y for x, y in zip(a, b))
    return None


def compare(pa: str, pb: str) -> int:
    A, B = json.loads(Path(pa).read_text()), json.loads(Path(pb).read_text())
    for k in ('machine', 'torch_threads', 'env', 'commit', 'seconds'):
        print(f'{k:14s} A: {A["info"].get(k)}\n{"":14s} B: {B["info"].get(k)}')
    sa, sb = {s['name']: s for s in A['steps']}, {s['name']: s for s in B['steps']}
    names = [s['name'] for s in A['steps']] + [n for n in sb if n not in sa]
    first, rows = None, []
    for n in names:
        a, b = sa.get(n), sb.get(n)
        if a is None or b is None: rows.append((n, 'only in ' + ('B' if a is None else 'A'), '')); continue
        same = a['digest'] == b['digest']
        detail = ''
        if not same:
            if first is None: first = n
            if a['kind'] == 'json' and isinstance(a.get('values'), dict) and isinstance(b.get('values'), dict):
                va, vb = a['values'], b['values']
                nd = sum(va.get(k) != vb.get(k) for k in set(va) | set(vb))
                detail = f'{nd} of {len(set(va) | set(vb))} entries differ'
            elif 'values' in a and 'values' in b:
                md = _maxdiff(a['values'], b['values'])
                nd = _n_diff(a['values'], b['values'])
                detail = f'max abs diff {md!r}' if md is not None else 'values differ in shape'
                if nd is not None and 'ranks' in n: detail += f'; {nd} mention(s) ranked differently'
            elif 'stats' in a and 'stats' in b:
                md = _maxdiff({k: {'sum': v['sum'], 'abs_sum': v['abs_sum'], 'head': v['head']} for k, v in a['stats'].items()},
                              {k: {'sum': v['sum'], 'abs_sum': v['abs_sum'], 'head': v['head']} for k, v in b['stats'].items()})
                detail = f'max abs diff of sums/first values {md!r}' if md is not None else 'shapes differ'
        rows.append((n, 'same' if same else 'DIFFERS', detail))
    print(f'\nfirst differing step: {first}\n')
    w = max(len(r[0]) for r in rows)
    for n, s, d in rows: print(f'{n:{w}s}  {s:8s}  {d}')
    for n in names:
        if 'test metrics' in n and n in sa and n in sb and sa[n]['digest'] != sb[n]['digest']:
            ma, mb = sa[n]['values']['all'], sb[n]['values']['all']
            print(f'{n}: ' + ', '.join(f'{k} {ma[k]!r} vs {mb[k]!r} ({mb[k] - ma[k]:+.4f})' for k in ma
                                       if isinstance(ma.get(k), (int, float))))
    return 0 if first is None else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--preset', default='demo', choices=['demo', 'smoke'])
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', help='trace JSON to write')
    ap.add_argument('--threads', type=int, default=1, help='torch.set_num_threads (main_results uses 1)')
    ap.add_argument('--part', default='both', choices=['both', 'thinklinker', 'official'])
    ap.add_argument('--official-rank', type=int, default=None, help='official rows rank (default: 32 on demo, as main_results)')
    ap.add_argument('--outputs', help='an empty folder for THINKLINKER_OUTPUTS (default: a new temporary one)')
    ap.add_argument('--compare', nargs=2, metavar=('A', 'B'), help='compare two trace files')
    args = ap.parse_args()
    if args.compare: sys.exit(compare(*args.compare))
    if not args.out: ap.error('--out is required (or --compare A B)')
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    res = run_trace(args)
    Path(args.out).write_text(json.dumps(res, indent=1, allow_nan=False))
    print(f"wrote {args.out}: {len(res['steps'])} steps, {res['info']['seconds']}")


if __name__ == '__main__':
    main()
