"""Issue 25, attempt 2: can the stage-1 matcher learn a planted rule at all, and from how many training mentions?

Builds planted-rule data directly as encoder-shaped feature tensors (the demo encoder's widths: tl-tiny, 64-d text
and image features, 8x8 = 64 patches at the demo's 64 px; T = 32 text tokens), with Gaussian N(0,1) backgrounds, and
trains the real `Matcher` (demo sizes d=128, rank 4) with the real loss (`matcher_loss`) and the real stage-1 trainer
(`Trainer.for_stage(1, ..., PRESETS['demo'])`: AdamW lr 1e-3, wd 0.01, clip 1, batch 64, 10 epochs, patience 3,
plateau x0.3, dev MRR monitored, best weights restored). Every mention is ranked against a namesake group of C
entities whose features are identical except for the deciding colour.

Rules:
  cross: the mention text carries colour c (u_c added to `k_tok` tokens, `tg` x u_c to the text global), the mention
         has no image (image_present False); the gold entity's image carries c (v_c on `k_patch` patches, `ig` x v_c
         on the image global), the namesakes other colours; entity texts identical within the group.
  local: mention image = the group's image + noise (`noise`); colour c on `k_patch` patches of the mention image and
         of the gold's image (random positions), `ig` x v_c on the global vectors (a mean over 64 patches: 1/64 per
         patch); texts identical within the group (the mention text: the group's text + noise).
`amp`: the norm of u_c / v_c in units of a background token's norm (sqrt(64) = 8).

Also a probe (the upper bound): a bilinear score t^T W v on pooled planted features, trained with the same CE.

Usage: nice -n 10 python scripts/mech_planted.py --rule cross --n 250 1000 4000 --amp 1 --seeds 0 1 2
"""
from __future__ import annotations
import argparse, itertools, json, math, sys, time
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
from thinklinker.config import PRESETS
from thinklinker.model.matcher import Matcher, MatcherConfig, matcher_loss
from thinklinker.model.weights import TINY_CLIP_CONFIGS
from thinklinker.train.trainer import Trainer
from thinklinker.eval.metrics import rank_metrics

PRE = PRESETS['demo']
_TC = TINY_CLIP_CONFIGS[PRE.clip_model]
D = _TC['embed_dim']                                        # 64: text and image feature width of the demo encoder
P = (PRE.image_size // _TC['vision_cfg']['patch_size']) ** 2  # 64 patches (8x8) at the demo's 64 px
T = 32                                                      # text tokens (mask: lengths 12..32)
K_COLOURS = 8


def make_mentions(w, n: int, rule: str, a, gen):
    "n mentions: (features, cand [n,C] entity ids, gold column [n])."
    G, C, col, u, v = w['G'], w['C'], w['col'], w['u'], w['v']
    grp = torch.randint(0, G, (n,), generator=gen)
    goldc = torch.randint(0, C, (n,), generator=gen)
    cand = grp[:, None] * C + torch.arange(C)[None]
    c = col[cand[torch.arange(n), goldc]]                      # the gold's colour
    kb = w['kb']
    if rule == 'cross':
        tl = torch.randn(n, T, D, generator=gen)
        lens = torch.randint(12, T + 1, (n,), generator=gen)
        tm = torch.arange(T)[None] < lens[:, None]
        for i in range(n):                                     # the colour word(s), at random valid positions
            pos = torch.randperm(int(lens[i]), generator=gen)[:a.k_tok]
            tl[i, pos] += u[c[i]]
        tg = torch.randn(n, D, generator=gen) + a.tg * u[c]
        il, ig = torch.zeros(n, P, D), torch.zeros(n, D)
        present = torch.zeros(n, dtype=torch.bool)
    else:   # local
        e0 = cand[:, 0]
        tl = kb['text_local'][e0] + a.noise * torch.randn(n, T, D, generator=gen)
        tm = kb['text_mask'][e0]
        tg = kb['text_global'][e0] + a.noise * torch.randn(n, D, generator=gen)
        # the group's picture before its colour patches, + noise (a different rendering), + the gold's colour
        il = _group_base_image(w, grp) + a.noise * torch.randn(n, P, D, generator=gen)
        for i in range(n):
            pos = torch.randperm(P, generator=gen)[:a.k_patch]
            il[i, pos] += v[c[i]]
        ig = _group_base_global(w, grp) + a.noise * torch.randn(n, D, generator=gen) + a.ig * v[c]
        present = torch.ones(n, dtype=torch.bool)
    f = dict(text_local=tl, text_mask=tm, text_global=tg, image_local=il, image_mask=torch.ones(n, P, dtype=torch.bool),
             image_global=ig, image_present=present)
    return f, cand, goldc


def _group_base_image(w, grp):
    return w['base_l'][grp].clone()


def _group_base_global(w, grp):
    return w['base_g'][grp].clone()


def build(rule, n_train, a, seed):
    "World + train / dev / test mentions; the world depends on the seed, the mention draws too."
    G, C = a.groups, a.C
    g = torch.Generator().manual_seed(10_000 + seed)
    u = F.normalize(torch.randn(K_COLOURS, D, generator=g), dim=-1) * a.amp * math.sqrt(D)
    v = F.normalize(torch.randn(K_COLOURS, D, generator=g), dim=-1) * a.amp * math.sqrt(D)
    E = G * C
    tl = torch.randn(G, T, D, generator=g).repeat_interleave(C, 0)
    lens = torch.randint(12, T + 1, (G,), generator=g).repeat_interleave(C, 0)
    tm = torch.arange(T)[None] < lens[:, None]
    tg = torch.randn(G, D, generator=g).repeat_interleave(C, 0)
    base_l = torch.randn(G, P, D, generator=g)
    base_g = torch.randn(G, D, generator=g)
    col = torch.stack([torch.randperm(K_COLOURS, generator=g)[:C] for _ in range(G)]).reshape(E)
    il = base_l.repeat_interleave(C, 0).clone()
    for e in range(E):
        il[e, torch.randperm(P, generator=g)[:a.k_patch]] += v[col[e]]
    ig = base_g.repeat_interleave(C, 0) + a.ig * v[col]
    kb = dict(text_local=tl, text_mask=tm, text_global=tg, image_local=il, image_mask=torch.ones(E, P, dtype=torch.bool),
              image_global=ig, image_present=torch.ones(E, dtype=torch.bool))
    w = dict(kb=kb, u=u, v=v, col=col, G=G, C=C, base_l=base_l, base_g=base_g)
    gen = torch.Generator().manual_seed(20_000 + seed)
    sets = {s: make_mentions(w, m, rule, a, gen) for s, m in (('train', n_train), ('dev', a.n_dev), ('test', a.n_test))}
    if a.offset:   # anisotropy: one shared direction per modality added to every token / patch / global, as in CLIP
        mt = F.normalize(torch.randn(D, generator=g), dim=-1) * a.offset * math.sqrt(D)
        mv = F.normalize(torch.randn(D, generator=g), dim=-1) * a.offset * math.sqrt(D)
        for f in [kb] + [s_[0] for s_ in sets.values()]:
            for k, mu in (('text_local', mt), ('text_global', mt), ('image_local', mv), ('image_global', mv)):
                f[k] = f[k] + mu
    return w, sets


def _lit(v):
    import ast
    try: return ast.literal_eval(v)
    except (ValueError, SyntaxError): return v


def take(f, idx): return {k: v[idx] for k, v in f.items()}


def batch_scores(model, kb, f, cand, rows):
    "Scores of mentions `rows` against their candidates (distinct entities embedded once), as Stage1Steps does."
    uniq, inv = torch.unique(cand[rows], return_inverse=True)
    return model(take(f, rows), take(kb, uniq), inv)


@torch.no_grad()
def evaluate(model, kb, f, cand, gold, bs=256):
    model.eval()
    s = torch.cat([batch_scores(model, kb, f, cand, torch.arange(i, min(i + bs, len(gold))))['S*']
                   for i in range(0, len(gold), bs)])
    return rank_metrics(s, gold)


def train_matcher(variant, w, sets, seed, a):
    from dataclasses import replace
    cfg = MatcherConfig(text_dim=D, image_dim=D, d=PRE.d, rank=PRE.rank).ablate(variant)
    if a.cfg: cfg = replace(cfg, **{k: _lit(v) for k, v in (kv.split('=') for kv in a.cfg)})
    torch.manual_seed(seed)
    model = Matcher(cfg)
    kb = w['kb']
    ftr, ctr, gtr = sets['train']
    def batches(epoch):
        perm = torch.randperm(len(gtr), generator=torch.Generator().manual_seed(seed * 1000 + epoch))
        return [perm[i:i + PRE.batch_size] for i in range(0, len(perm), PRE.batch_size)]
    loss = lambda m, rows: matcher_loss(batch_scores(m, kb, ftr, ctr, rows), gtr[rows])
    fd, cd, gd = sets['dev']
    tr = Trainer.for_stage(1, model, PRE, loss_fn=loss, batches=batches,
                           evaluate=lambda m: evaluate(m, kb, fd, cd, gd), seed=seed, progress=False,
                           epochs=a.epochs)
    if a.no_es: tr.patience, tr.plateau_factor = 10**9, None     # fixed lr, every epoch, the best dev epoch kept
    fit = tr.fit()
    ft, ct, gt = sets['test']
    losses = [round(r['loss'], 3) for r in fit.history]
    return evaluate(model, kb, ft, ct, gt)['H@1'], fit.best_epoch, len(fit.history), losses


def pooled(f, which):
    "Pooled vectors of the planted features for the probe."
    if which == 'text_mean':
        m = f['text_mask'][..., None].float()
        return (f['text_local'] * m).sum(1) / m.sum(1)
    if which == 'text_max':
        return f['text_local'].masked_fill(~f['text_mask'][..., None], -1e9).max(1).values
    if which == 'text_global': return f['text_global']
    if which == 'image_mean': return f['image_local'].mean(1)
    if which == 'image_max': return f['image_local'].max(1).values
    if which == 'image_global': return f['image_global']
    raise KeyError(which)


def probe(w, sets, seed, men_key, ent_key, epochs=60):
    "Bilinear probe s = m^T W e (W [D,D]) on pooled features, CE over the candidates, Adam; test H@1."
    kb = w['kb']
    torch.manual_seed(seed)
    W = torch.nn.Parameter(torch.zeros(D, D))
    opt = torch.optim.Adam([W], lr=1e-2, weight_decay=0.0)
    E = pooled(kb, ent_key)
    def sc(s):
        f, c, g = sets[s]
        M = pooled(f, men_key)
        return torch.einsum('nd,de,nce->nc', M, W, E[c]), g
    best, best_h = None, -1
    for ep in range(epochs):
        s, g = sc('train')
        l = F.cross_entropy(s, g)
        opt.zero_grad(); l.backward(); opt.step()
        with torch.no_grad():
            sd, gd = sc('dev')
            h = rank_metrics(sd, gd)['MRR']
            if h > best_h: best_h, best = h, W.detach().clone()
    with torch.no_grad():
        W.data = best
        st, gt = sc('test')
        return rank_metrics(st, gt)['H@1']


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument('--rule', choices=['cross', 'local'], required=True)
    p.add_argument('--n', type=int, nargs='+', default=[250, 1000, 4000], help='training mentions')
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--amp', type=float, nargs='+', default=[1.0])
    p.add_argument('--variants', nargs='+', default=['ThinkLinker (full)', 'w/o local', 'w/o cross-modal'])
    p.add_argument('--C', type=int, default=2, help='candidates (namesakes) per mention')
    p.add_argument('--groups', type=int, default=200)
    p.add_argument('--k_tok', type=int, default=1)
    p.add_argument('--k_patch', type=int, default=2)
    p.add_argument('--tg', type=float, default=0.0, help='colour on the mention text global (x u_c)')
    p.add_argument('--ig', type=float, default=2 / 64, help='colour on image globals (x v_c)')
    p.add_argument('--noise', type=float, default=0.5, help='local rule: mention = group + noise x N(0,1)')
    p.add_argument('--offset', type=float, default=0.0, help='shared mean direction (x a token norm) on every feature')
    p.add_argument('--n_dev', type=int, default=300)
    p.add_argument('--n_test', type=int, default=1000)
    p.add_argument('--epochs', type=int, default=None, help='None: the demo preset (10)')
    p.add_argument('--probe', nargs='*', default=None, help='probe pairs men_key:ent_key, e.g. text_max:image_max')
    p.add_argument('--show_loss', action='store_true', help='train loss per epoch (Eq. 7 sum over the score matrices)')
    p.add_argument('--cfg', nargs='*', default=[], help='MatcherConfig overrides for every variant, e.g. fusion=concat')
    p.add_argument('--no_es', action='store_true', help='no early stopping / lr plateau (diagnostic)')
    p.add_argument('--out', default=None, help='append JSON lines here')
    a = p.parse_args(argv)
    print(json.dumps({k: v for k, v in vars(a).items()}), flush=True)
    for amp, n, seed in itertools.product(a.amp, a.n, a.seeds):
        b = argparse.Namespace(**{**vars(a), 'amp': amp})
        w, sets = build(a.rule, n, b, seed)
        row = dict(rule=a.rule, amp=amp, n=n, seed=seed, C=a.C)
        for pr in a.probe or []:
            mk, ek = pr.split(':')
            row[f'probe {pr}'] = round(probe(w, sets, seed, mk, ek), 1)
        for var in a.variants:
            t0 = time.time()
            h, be, ne, losses = train_matcher(var, w, sets, seed, b)
            row[var] = round(h, 1)
            if a.show_loss: row[f'{var} loss'] = losses
            row[f'{var} ep'] = f'{be}/{ne}'
            row[f'{var} s'] = round(time.time() - t0, 1)
        print(json.dumps(row), flush=True)
        if a.out:
            with open(a.out, 'a') as fh: fh.write(json.dumps({**row, 'args': vars(b)}) + '\n')


if __name__ == '__main__':
    main()
