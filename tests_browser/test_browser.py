"""Browser tests: JupyterLab served on 127.0.0.1, driven by headless Chromium (Debian's `chromium` and
`chromium-driver`) with selenium. Run with `make browser-test` (not part of `make test`).

Each test opens a notebook in JupyterLab, runs it (Run > Run All Cells), then works its widget the way a user
does and reads the widget's DOM:
- `nbs/link.ipynb`: type a sentence and a mention, press Link, read the ranked entities; a bad mention shows an error;
- `nbs/case_studies.ipynb`: filter, mention and round steps, the line height and column positions, export.

The notebooks run on copies in a temporary folder (JupyterLab autosaves: the checkout stays clean), with the
smoke preset and a fresh outputs folder unless told otherwise:
  THINKLINKER_BROWSER_PRESET   preset of the notebooks (default smoke)
  THINKLINKER_BROWSER_OUTPUTS  outputs folder the notebooks use (default: a temporary one)
  THINKLINKER_BROWSER_SHOTS    where screenshots go (default: <repo>/outputs/browser)
"""
import json, os, re, secrets, shutil, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM, DRIVER = shutil.which('chromium') or shutil.which('chromium-browser'), shutil.which('chromedriver')
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason='needs chromium and chromedriver '
                                '(Debian: apt-get install -y chromium chromium-driver)')
RUN_TIMEOUT = float(os.environ.get('THINKLINKER_BROWSER_TIMEOUT', 600))
SHOTS = Path(os.environ.get('THINKLINKER_BROWSER_SHOTS') or REPO / 'outputs' / 'browser')
LAB_LOG: Path | None = None       # the JupyterLab server's log while the `lab` fixture runs

def _wait(d, cond, timeout: float):
    "WebDriverWait(d, timeout).until(cond), retrying while the page re-renders an element under us (stale)."
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.common.exceptions import StaleElementReferenceException, NoSuchElementException
    return WebDriverWait(d, timeout, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException,
                                                         StopIteration)).until(cond)



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


@pytest.fixture(scope='session')
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture(scope='session')
def lab():
    "JupyterLab on 127.0.0.1 over a temporary copy of nbs/, the worktree's package on PYTHONPATH; yields (url, token, outputs)."
    tmp = Path(tempfile.mkdtemp(prefix='thinklinker-browser-'))
    shutil.copytree(REPO / 'nbs', tmp / 'nbs', ignore=shutil.ignore_patterns('.ipynb_checkpoints'))
    outputs = Path(os.environ.get('THINKLINKER_BROWSER_OUTPUTS') or tmp / 'outputs')
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, PYTHONPATH=str(REPO), THINKLINKER_OUTPUTS=str(outputs),
               THINKLINKER_PRESET=os.environ.get('THINKLINKER_BROWSER_PRESET', 'smoke'),
               JUPYTER_CONFIG_DIR=str(tmp / 'config'), JUPYTER_RUNTIME_DIR=str(tmp / 'runtime'),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / 'workspaces'), JUPYTERLAB_SETTINGS_DIR=str(tmp / 'settings'))
    cmd = [str(Path(sys.executable).parent / 'jupyter'), 'lab', '--no-browser', f'--port={port}', '--ServerApp.ip=127.0.0.1',
           f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={tmp}', '--ServerApp.open_browser=False']
    if hasattr(os, 'geteuid') and os.geteuid() == 0: cmd.append('--allow-root')     # containers, CI
    global LAB_LOG
    LAB_LOG = tmp / 'jupyter.log'
    log = open(LAB_LOG, 'w')
    proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}'
    try:
        up = False
        for _ in range(120):
            if proc.poll() is not None: break
            try: up = bool(urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2))
            except OSError: time.sleep(0.5)
            if up: break
        if not up: raise RuntimeError(f'JupyterLab did not start: {(tmp / "jupyter.log").read_text()[-2000:]}')
        yield url, token, outputs
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill()
        log.close(); shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture()
def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = CHROMIUM
    for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--window-size=1500,1900', '--disable-gpu'):
        o.add_argument(a)
    o.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    d = webdriver.Chrome(service=Service(DRIVER), options=o)
    d.set_page_load_timeout(120)
    yield d
    d.quit()


def _css(d, sel, timeout=60.0, root=None):
    "The first element matching `sel`, waited for."
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    return _wait(root or d, lambda x: (x.find_elements(By.CSS_SELECTOR, sel) or [None])[0], timeout)


def _sessions(url, token) -> list:
    "The server's sessions (notebook path, kernel and its state), from its REST API ([] when it does not answer)."
    try:
        with urllib.request.urlopen(f'{url}/api/sessions?token={token}', timeout=5) as r: return json.load(r)
    except (OSError, ValueError): return []


def _kernels(url, token) -> list:
    "The server's sessions as (notebook path, kernel execution_state)."
    return [(s.get('path'), (s.get('kernel') or {}).get('execution_state')) for s in _sessions(url, token)]


def _shutdown_kernels(url, token):
    "Shut down every kernel the server runs (an earlier test's notebook): the next notebook gets the machine to itself."
    for s in _sessions(url, token):
        req = urllib.request.Request(f'{url}/api/sessions/{s["id"]}?token={token}', method='DELETE')
        try: urllib.request.urlopen(req, timeout=30).close()
        except OSError as e: print(f'could not shut the kernel of {s.get("path")} down: {e}')


def _prompts(d) -> list:
    from selenium.webdriver.common.by import By
    from selenium.common.exceptions import StaleElementReferenceException
    try: return [e.text for e in d.find_elements(By.CSS_SELECTOR, '.jp-CodeCell .jp-InputPrompt')]
    except StaleElementReferenceException: return []


def _stuck(d, url, token, path, what: str) -> str:
    """What a test that waited in vain reports: the cells' prompts, the running cell's first line, the kernels' states,
    any open dialog, the tail of the server's log; and a screenshot (`<notebook>-stuck.png` in the shots folder)."""
    from selenium.webdriver.common.by import By
    cells = d.find_elements(By.CSS_SELECTOR, '.jp-CodeCell')
    ps = _prompts(d)
    try: running = [c.find_element(By.CSS_SELECTOR, '.jp-InputArea-editor').text.split('\n')[0][:120]
                    for c in cells if '*' in c.find_element(By.CSS_SELECTOR, '.jp-InputPrompt').text][:1]
    except Exception as e: running = [f'({type(e).__name__})']
    dialogs = [e.text[:200] for e in d.find_elements(By.CSS_SELECTOR, '.jp-Dialog')]
    status = [e.get_attribute('data-status') for e in d.find_elements(By.CSS_SELECTOR, '.jp-Notebook-ExecutionIndicator')]
    shot = SHOTS / f'{Path(path).stem}-stuck.png'
    try: d.save_screenshot(str(shot))
    except Exception as e: shot = f'(no screenshot: {e})'
    log = LAB_LOG.read_text(errors='replace')[-3000:] if LAB_LOG and LAB_LOG.exists() else '(no server log)'
    return (f'{path}: {what}\n  prompts of {len(ps)} code cells: {ps}\n  first cell running or queued: {running}\n  execution indicator: {status}'
            f'\n  kernels (REST): {_kernels(url, token)}\n  dialogs: {dialogs}\n  screenshot: {shot}\n  server log tail:\n{log}')


def _run_all(d, url, token, path):
    """Open `path` in JupyterLab, wait for the kernel, Run All Cells, wait until a cell has run, none is queued or running
    and the kernel is idle. A Run All that started nothing within a minute (every prompt still '[ ]': the click landed
    while the kernel was still starting) is clicked again, up to twice. A wait in vain fails with what the page showed."""
    from selenium.webdriver.common.by import By
    _shutdown_kernels(url, token)
    d.get(f'{url}/lab/tree/{path}?token={token}')
    _css(d, '.jp-NotebookPanel .jp-Cell', 120)
    t0 = time.time()
    while time.time() - t0 < 120:                       # the kernel dialog answered (the notebook's python3), then idle
        for b in d.find_elements(By.CSS_SELECTOR, '.jp-Dialog .jp-Dialog-button.jp-mod-accept'):
            b.click(); time.sleep(1)
        if not d.find_elements(By.CSS_SELECTOR, '.jp-Dialog') and d.find_elements(
                By.CSS_SELECTOR, '.jp-Notebook-ExecutionIndicator[data-status="idle"]'): break
        time.sleep(1)

    def run_all():
        for b in d.find_elements(By.CSS_SELECTOR, '.jp-Dialog .jp-Dialog-button.jp-mod-accept'): b.click(); time.sleep(1)
        run_menu = next(e for e in d.find_elements(By.CSS_SELECTOR, '.lm-MenuBar-item') if e.text.strip() == 'Run')
        run_menu.click()
        _css(d, 'li[data-command="runmenu:run-all"], li[data-command="notebook:run-all-cells"]', 20).click()
        time.sleep(2)
        return time.time()

    t0 = t_click = run_all()
    clicks = 1
    while time.time() - t0 < RUN_TIMEOUT:
        prompts = _prompts(d)
        started = any('*' in p or re.search(r'\[\d+\]', p) for p in prompts)
        # done: nothing queued or running, and something ran ('[ ]' everywhere: the kernel is still starting; empty
        # cells keep '[ ]' for good), and the kernel idle
        if (prompts and not any('*' in p for p in prompts) and any(re.search(r'\[\d+\]', p) for p in prompts)
                and d.find_elements(By.CSS_SELECTOR, '.jp-Notebook-ExecutionIndicator[data-status="idle"]')): break
        if any('Traceback' in e.text for e in d.find_elements(
                By.CSS_SELECTOR, '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')): break
        if any(state == 'dead' for p, state in _kernels(url, token) if p and p.endswith(Path(path).name)):
            raise AssertionError(_stuck(d, url, token, path, 'the kernel died'))
        if not started and time.time() - t_click > 60 and clicks < 3:
            print(f'{path}: Run All started no cell in {time.time() - t_click:.0f} s (prompts {set(prompts)}); clicking it again')
            t_click = run_all(); clicks += 1
        time.sleep(2)
    else: raise AssertionError(_stuck(d, url, token, path, f'cells still running after {RUN_TIMEOUT:.0f} s ({clicks} Run All click(s))'))
    errors = [e.text[:2000] for e in d.find_elements(By.CSS_SELECTOR, '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
              if 'Traceback' in e.text or 'Error' in e.text.split('\n')[0]]
    assert not errors, f'{path}: a cell failed:\n' + '\n'.join(errors)


def _console_errors(d) -> list:
    "SEVERE console entries, except network noise (favicon, missing optional resources)."
    return [e['message'] for e in d.get_log('browser') if e['level'] == 'SEVERE'
            and not re.search(r'favicon|Failed to load resource|/api/(workspaces|translations|lsp)|\bnews\b', e['message'])]


def _widget_errors(d) -> list:
    "Outputs that show a widget error instead of the widget."
    from selenium.webdriver.common.by import By
    return [e.text[:300] for e in d.find_elements(By.CSS_SELECTOR, '.jp-OutputArea-output')
            if 'Error displaying widget' in e.text or 'model not found' in e.text]


def _shot(d, el, path: Path):
    d.execute_script('arguments[0].scrollIntoView({block: "start"});', el)
    time.sleep(0.5)
    d.save_screenshot(str(path))
    return path


def test_link_notebook(lab, driver, shots):
    "nbs/link.ipynb: type a mention, press Link, read the ranked entities from the widget's DOM."
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    url, token, _ = lab
    d = driver
    _run_all(d, url, token, 'nbs/link.ipynb')
    ui = _css(d, '.tl-linker', 30)
    mention_box, sentence_box = _css(d, '.tl-mention input', root=ui), _css(d, '.tl-sentence input', root=ui)
    name = mention_box.get_attribute('value')             # the notebook filled in a KB entity's name
    assert name, 'the mention box is empty'
    sentence = f'Visitors from abroad praised the {name} for its old archive.'
    for box, text in ((sentence_box, sentence), (mention_box, name)):
        box.click(); box.send_keys(Keys.CONTROL, 'a'); box.send_keys(Keys.DELETE); box.send_keys(text)
    before = d.find_elements(By.CSS_SELECTOR, '.tl-view .tl-result')
    old = before[0].get_attribute('innerHTML') if before else ''
    _css(d, 'button.tl-link', root=ui).click()
    from selenium.webdriver.support.ui import WebDriverWait
    _wait(d, lambda x: sentence in (x.find_elements(By.CSS_SELECTOR, '.tl-view .tl-result') or [None])[0].text
                                if x.find_elements(By.CSS_SELECTOR, '.tl-view .tl-result') else False, 240)
    res = _css(d, '.tl-view .tl-result', root=ui)
    assert res.get_attribute('innerHTML') != old
    rounds = res.find_elements(By.CSS_SELECTOR, 'tr.tl-round')
    first = rounds[0].find_elements(By.CSS_SELECTOR, '.tl-entity')
    ranks = [int(e.get_attribute('data-rank')) for e in first]
    qids = [e.get_attribute('data-qid') for e in first]
    assert ranks == list(range(1, len(ranks) + 1)) and len(ranks) >= 2, ranks
    assert all(qids) and len(set(qids)) == len(qids), qids
    names = [e.text.split('\n')[0] for e in first]
    assert any(name in n for n in names), (name, names)      # name candidates: the namesakes come first
    assert len(rounds) >= 2, 'the widget starts with the simulated LLM: expected dialogue rounds'
    assert 'Q1:' in rounds[1].text and 'A1:' in rounds[1].text
    status = _css(d, '.tl-status', root=ui).text
    assert 'linked in' in status, status
    p = _shot(d, ui, shots / 'link-widget.png')
    print(f'link widget: mention {name!r}, stage-1 top {qids}, {len(rounds) - 1} round(s); status {status!r}; screenshot {p}')
    # bad input: a mention that is not in the sentence gives the error in the status line, no traceback
    mention_box.click(); mention_box.send_keys(Keys.CONTROL, 'a'); mention_box.send_keys(Keys.DELETE); mention_box.send_keys('Zzyzx')
    _css(d, 'button.tl-link', root=ui).click()
    err = _css(d, '.tl-status .tl-error', 60, root=ui).text
    assert 'does not occur in the sentence' in err, err
    assert not _widget_errors(d), _widget_errors(d)
    assert not _console_errors(d), _console_errors(d)


def test_case_study_browser(lab, driver, shots):
    "nbs/case_studies.ipynb: the browser's filter and step buttons, its layout, and export, in the DOM."
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
    url, token, outputs = lab
    d = driver
    _run_all(d, url, token, 'nbs/case_studies.ipynb')
    btn = lambda t: next(e for e in d.find_elements(By.CSS_SELECTOR, '.jupyter-widgets button') if e.text.strip() == t)
    status = lambda: next(e.text for e in d.find_elements(By.CSS_SELECTOR, '.widget-html-content') if e.text.startswith('mention '))
    readout = lambda label: next(e for e in d.find_elements(By.CSS_SELECTOR, '.widget-slider')
                                 if e.find_element(By.CSS_SELECTOR, '.widget-label').text == label
                                 ).find_element(By.CSS_SELECTOR, '.widget-readout').text.strip()
    _wait(d, lambda x: any(e.text.startswith('mention ') for e in x.find_elements(By.CSS_SELECTOR, '.widget-html-content')), 180)
    s0 = status()
    m = re.match(r'mention (\d+) of (\d+) \((\w+)\); round (\d+) of (\d+)', s0)
    assert m, s0
    n, R = int(m.group(2)), int(m.group(5))
    assert m.group(1) == readout('Mention') == '1', (s0, readout('Mention'))          # slider and status count alike
    # the layout: no inherited 28 px line height; the columns stay put when stepping rounds
    case = d.find_element(By.XPATH, "//div[contains(@style,'line-height:1.35')]")
    lh = float(d.execute_script('return parseFloat(getComputedStyle(arguments[0]).lineHeight)', case))
    assert lh < 20, f'line height {lh} px'
    cols = lambda: [round(e.location['x']) for e in d.find_elements(By.XPATH, "//th[starts-with(normalize-space(),'Top ')]")]
    x_before = cols()
    if n > 1:
        btn('mention ▶').click()
        _wait(d, lambda x: status().startswith('mention 2 of'), 30)
        assert readout('Mention') == '2'
    if R > 0:
        btn('◀ round').click()
        _wait(d, lambda x: f'round {R - 1} of {R}' in status(), 30)
        assert cols() == x_before, (x_before, cols())
    p = _shot(d, case, shots / 'case-browser-step.png')
    # filter: the dropdown's options carry their counts; choosing one restricts the status line
    sel = Select(next(e for e in d.find_elements(By.CSS_SELECTOR, '.widget-dropdown select')
                      if any(o.text.startswith('improved') for o in Select(e).options)))
    target = next(o.text for o in sel.options if o.text.startswith('unchanged'))
    k = int(re.search(r'\((\d+)\)', target).group(1))
    sel.select_by_visible_text(target)
    _wait(d, lambda x: '(unchanged)' in status() or 'no case matches' in x.page_source, 30)
    if k: assert f'of {k} (unchanged)' in status(), status()
    # export HTML: its own file, one note naming the folder; the notebook's cases.html untouched
    out_cs = next((q for q in (outputs / '_smoke' / 'case_studies', outputs / 'case_studies') if (q / 'cases.html').exists()), None)
    before = (out_cs / 'cases.html').read_bytes() if out_cs else None
    if k:
        btn('export HTML').click(); _wait(d, lambda x: 'wrote browser-cases.html' in status(), 30)
        btn('export HTML').click(); time.sleep(2)
        assert status().count('wrote') == 1, status()
        if out_cs: assert (out_cs / 'cases.html').read_bytes() == before and (out_cs / 'browser-cases.html').is_file()
    assert not _widget_errors(d), _widget_errors(d)
    assert not _console_errors(d), _console_errors(d)
    print(f'case browser: {s0!r} -> {status()!r}; line height {lh} px; columns at {x_before}; screenshot {p}')


def _report_outputs(root: Path) -> Path:
    "A constructed outputs folder: two experiments (meta columns, an md table, a PNG, ranks.csv; one with paired.csv) and a calibration run."
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt, pandas as pd, torch
    from thinklinker.data.candidates import Candidates
    from thinklinker.eval.paired import rank_rows, compare_table
    from thinklinker.experiments.core import md_table
    N = 40
    cands = Candidates(torch.arange(5).repeat(N, 1), torch.ones(N, 5, dtype=torch.bool), torch.zeros(N, dtype=torch.long),
                       [f'm{i}' for i in range(N)], [['t']] * N)
    for name, ds, methods in [('exp_a', 'synthmel', ['ThinkLinker', '<i>x</i>', 'other']), ('exp_b', 'wikimel', ['full', 'no_text'])]:
        d = root / name; d.mkdir(parents=True)
        res = pd.DataFrame([{'method': m, 'seed': s, 'H@1': 50.0 + s, 'dataset': ds, 'preset': 'demo', 'commit': 'abc1234',
                             'machine_cpu': 'TestCPU'} for m in methods for s in (0, 1)])
        res.to_csv(d / 'results.csv', index=False)
        (d / 'results.md').write_text(f'# {name}\n\n' + md_table(res.groupby('method')[['H@1']].mean()))
        fig, ax = plt.subplots(figsize=(4, 2)); ax.bar(methods, [1, 2, 3][:len(methods)]); fig.savefig(d / 'fig.png', dpi=60); plt.close(fig)
        rk = []
        for i, m in enumerate(methods):
            for s in (0, 1):
                sc = torch.zeros(N, 5); sc[:N - 4 * i, 0] = 1; sc[N - 4 * i:, 1] = 1
                rk.append(rank_rows(sc, cands, m, s, 'p'))
        ranks = pd.concat(rk, ignore_index=True); ranks.to_csv(d / 'ranks.csv', index=False)
        if name == 'exp_a': compare_table(ranks, methods[0], n_boot=200, n_perm=200).to_csv(d / 'paired.csv', index=False)
    (root / 'calibration').mkdir()
    val = {'text_only': 95, 'image_only': 20, 'stage1': 80, 'zero_shot': 10, 'stage2_k0': 80, 'stage2_k0.8': 85, 'stage2_k1': 90}
    pd.DataFrame([{'method': m, 'seed': 0, 'tag': t, 'H@1': float(v)} for m, v in val.items()
                  for t in ('all', 'text_cue', 'image_global', 'image_local', 'conjunction', 'weak_context')]
                 ).to_csv(root / 'calibration' / 'results.csv', index=False)
    return root


def test_report(driver, shots):
    """`thinklinker report` in the browser: the page, opened as file:// (no server), logs no SEVERE console entry and
    every figure is decoded (complete, naturalWidth > 0). THINKLINKER_BROWSER_REPORT: check that HTML file instead of
    a report of a constructed outputs folder."""
    from selenium.webdriver.common.by import By
    given = os.environ.get('THINKLINKER_BROWSER_REPORT')
    if given: path = Path(given).resolve()
    else:
        from thinklinker.apps.report import write_report
        tmp = Path(tempfile.mkdtemp(prefix='thinklinker-report-'))
        path = write_report(_report_outputs(tmp / 'outputs'), tmp / 'report.html')
    driver.get(path.as_uri())
    _wait(driver, lambda x: x.execute_script('return document.readyState') == 'complete', 60)
    imgs = driver.find_elements(By.TAG_NAME, 'img')
    assert imgs or given, 'the report has no figure'
    bad = [i.get_attribute('alt') for i in imgs if not driver.execute_script(
        'return arguments[0].complete && arguments[0].naturalWidth > 0', i)]
    assert not bad, f'figures not shown: {bad}'
    severe = [e['message'] for e in driver.get_log('browser') if e['level'] == 'SEVERE']
    assert not severe, severe
    assert (driver.find_elements(By.CSS_SELECTOR, 'section h2') or given) and 'Benchmark controls' in driver.page_source
    if not given: assert driver.find_elements(By.CSS_SELECTOR, 'tr.sig') and '&lt;i&gt;x&lt;/i&gt;' in driver.page_source
    p = shots / (f'report-{path.stem}.png' if given else 'report.png')
    h = driver.execute_script('return document.documentElement.scrollHeight')
    driver.set_window_size(1500, min(int(h) + 100, 6000))          # the whole page (up to 6000 px) in one screenshot
    driver.save_screenshot(str(p))
    print(f'report {path} ({path.stat().st_size / 1024:.0f} KiB): {len(imgs)} figures shown, no SEVERE console entry; screenshot {p}')
