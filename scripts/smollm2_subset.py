import time, json, torch
torch.set_num_threads(1)
from thinklinker.config import get_preset
from thinklinker.data.synth import synthmel
from thinklinker.model.pretrain import tiny_clip
from thinklinker.train.stage1 import train_stage1
from thinklinker.eval.predict import evaluate_scores
from thinklinker.dialogue.infusion import dialogue_answers, train_stage2, stage1_rankings, answer_features, stage2_predict
from thinklinker.dialogue.core import run_dialogue
from thinklinker.dialogue.local import SimulatedLLM, TransformersBackend
R, N = 2, 60
p = get_preset('demo'); ds = synthmel('demo', seed=0); enc = tiny_clip(p, seed=0, entities=ds.kb, progress=False)
t0 = time.time(); s1 = train_stage1(ds, enc, p, seed=0, finetune_encoder=False, progress=False); print('s1', round(time.time()-t0), flush=True)
sim = SimulatedLLM(ds.root / 'knowledge.json', mentions=ds.mentions(), knowledge_rate=0.8, hallucination_rate=0.1, seed=0)
run, ans = dialogue_answers(ds, s1, sim, rounds=R, cache=None, progress=False)
s2 = train_stage2(s1, ds, ans, p, seed=0, progress=False); print('s2', round(time.time()-t0), flush=True)
c = s1.cands['test']; rows = torch.arange(N)
sub = c.subset(rows)
ranks = stage1_rankings(s1, ds, splits=('test',))
ms = ds.splits['test'][:N]
t = time.time(); smol = TransformersBackend()
runS = run_dialogue(ms, ds.kb, {m.id: ranks[m.id] for m in ms}, smol, rounds=R, cache='auto', concurrency=1, progress=False)
gen_s = time.time() - t
ansS = answer_features(runS.records, c.mention_ids, R, enc, progress=False)
sc_sim = stage2_predict(s2.model, s1.src, 'test', c, ans['test'])
sc_smol = stage2_predict(s2.model, s1.src, 'test', c, ansS)
out = {'subset': N, 'R': R, 'smollm2_dialogue_s': round(gen_s, 1), 'smollm2_stats': {k: v for k, v in runS.stats.items() if isinstance(v, (int, float))},
       'stage1': evaluate_scores(s1.test_scores[rows], sub), 'stage2_simulated_answers': evaluate_scores(sc_sim[rows], sub),
       'stage2_smollm2_answers': evaluate_scores(sc_smol[rows], sub),
       'flags': sum(1 for r in runS.records if r.get('flags')), 'examples': runS.records[:6]}
json.dump(out, open('smollm2_subset.json', 'w'), indent=1, default=str)
print(json.dumps({k: v for k, v in out.items() if k != 'examples'}, indent=1, default=str))
for r in runS.records[:6]: print(r['mention_id'], r['round'], r['candidate'], '|Q:', r['question'], '|A:', r['answer'], '|', r.get('flags'))
