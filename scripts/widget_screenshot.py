"""Headless check of the case-study browser: drive `CaseBrowser` with its own buttons on the
demo cases and render what it shows to PNG, without a browser or a Jupyter front end.

Two steps, two environments (the renderer is not a dependency of the workbench):

    .venv/bin/python scripts/widget_screenshot.py html OUT_DIR [--preset demo]   # writes OUT_DIR/browser-*.html
    python -m venv /tmp/shot && /tmp/shot/bin/pip install weasyprint pymupdf
    /tmp/shot/bin/python scripts/widget_screenshot.py png OUT_DIR                 # each .html -> .png

Step 1 rebuilds the case studies from the cached stage-1 model (run `case_studies` first),
clicks through filter / mention / round buttons, and saves `CaseBrowser.snapshot_html()`
after each step. Step 2 renders each page with WeasyPrint (HTML+CSS, no JavaScript) and
rasterises it with PyMuPDF. The controls in the PNG are HTML stand-ins carrying the widgets'
current values; the case view is the widget's own HTML.
"""
import sys, argparse
from pathlib import Path

def make_html(out: Path, preset: str):
    import torch
    torch.set_num_threads(1)
    from thinklinker.experiments.core import setup_experiment, make_llm, llm_label
    from thinklinker.experiments.cache import cached_stage1
    from thinklinker.dialogue.infusion import dialogue_answers, train_stage2
    from thinklinker.apps.casestudy import round_scores, build_cases, CaseBrowser
    exp = setup_experiment('case_studies', preset, out_dir=out / 'run')
    s1 = cached_stage1(exp, seed=0, progress=False)
    run, ans = dialogue_answers(exp.ds, s1, make_llm('simulated', exp.ds), rounds=exp.P.dialogue_rounds,
                                out_path=out / 'run' / 'dialogue.jsonl', resume=False, progress=False)
    s2 = train_stage2(s1, exp.ds, ans, exp.P, seed=0, progress=False)
    cases = build_cases(exp.ds, s1, round_scores(s1, s2.model, ans['test']), run.records)
    b = CaseBrowser(cases, out_dir=out, label=f'{exp.bench_label}; answers from a {llm_label("simulated")}; seed 0')
    steps = [('all-final', lambda: None), ('improved-final', lambda: setattr(b.filter, 'value', 'improved')),
             ('improved-round0', lambda: [b.prev_r.click() for _ in range(b.round.value)]),
             ('improved-next-round1', lambda: (b.next_m.click(), b.prev_r.click())),
             ('worsened-final', lambda: setattr(b.filter, 'value', 'worsened')),
             ('failure-final', lambda: setattr(b.filter, 'value', 'failure'))]
    for name, act in steps:
        act(); (out / f'browser-{name}.html').write_text(b.snapshot_html(), encoding='utf-8')
        print(name, b.status.value)

def make_png(out: Path):
    import weasyprint, pymupdf
    for h in sorted(out.glob('browser-*.html')):
        pdf = weasyprint.HTML(filename=str(h)).write_pdf(stylesheets=[weasyprint.CSS(string='@page { size: 300mm 200mm; margin: 6mm }')])
        doc = pymupdf.open(stream=pdf, filetype='pdf')
        doc[0].get_pixmap(dpi=110).save(str(h.with_suffix('.png')))
        print(h.with_suffix('.png'))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('step', choices=['html', 'png']); ap.add_argument('out')
    ap.add_argument('--preset', default='demo'); a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    make_html(out, a.preset) if a.step == 'html' else make_png(out)
