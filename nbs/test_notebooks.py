"""pytest entry point for the notebook tests: one pytest item per notebook in nbs/ (experiments) and nbs/api/ (library).

Each notebook runs in a fresh process under nbdev's own test runner (`nbdev_test --path`),
which sets IN_TEST=1, so every notebook uses the `smoke` preset (thinklinker.config).
`make test` runs this file with pytest-xdist; extra nbdev test flags (e.g. `slow`) come
from $THINKLINKER_TEST_FLAGS.

The tests never read or write the project's `outputs/`: every test session gets its own
temporary outputs folder ($THINKLINKER_OUTPUTS), shared by its notebooks, so what a demo
left in `outputs/` (data, caches, results) cannot change a test's result. Set
$THINKLINKER_TEST_OUTPUTS to keep that folder somewhere on purpose (e.g. to inspect it).
"""
import os, subprocess, sys, tempfile
from pathlib import Path
import pytest

NBS = Path(__file__).resolve().parent
NOTEBOOKS = sorted((p for p in [*NBS.glob('*.ipynb'), *NBS.glob('api/*.ipynb')] if not p.name.startswith(('_', '.'))),
                   key=lambda p: p.name)

@pytest.fixture(scope='session')
def test_outputs():
    "A fresh outputs folder for this test session (one per pytest-xdist worker)."
    keep = os.environ.get('THINKLINKER_TEST_OUTPUTS', '').strip()
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True); yield Path(keep); return
    with tempfile.TemporaryDirectory(prefix='thinklinker-test-outputs-') as td: yield Path(td)

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook(nb, test_outputs):
    exe = Path(sys.executable).parent / 'nbdev_test'
    cmd = [str(exe), '--path', str(nb), '--n_workers', '0']
    flags = os.environ.get('THINKLINKER_TEST_FLAGS', '').strip()
    if flags: cmd += ['--flags', flags]
    env = dict(os.environ, THINKLINKER_OUTPUTS=str(test_outputs))
    r = subprocess.run(cmd, cwd=NBS.parent, capture_output=True, text=True, env=env)
    assert r.returncode == 0, f'{nb.name} failed under nbdev_test:\n{r.stdout[-5000:]}\n{r.stderr[-20000:]}'
