"""pytest entry point for the notebook tests: one pytest item per notebook in nbs/.

Each notebook runs in a fresh process under nbdev's own test runner (`nbdev_test --path`),
which sets IN_TEST=1, so every notebook uses the `smoke` preset (thinklinker.config).
`make test` runs this file with pytest-xdist; extra nbdev test flags (e.g. `slow`) come
from $THINKLINKER_TEST_FLAGS.
"""
import os, subprocess, sys
from pathlib import Path
import pytest

NBS = Path(__file__).resolve().parent
NOTEBOOKS = sorted(p for p in NBS.glob('*.ipynb') if not p.name.startswith(('_', '.')))

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook(nb):
    exe = Path(sys.executable).parent / 'nbdev_test'
    cmd = [str(exe), '--path', str(nb), '--n_workers', '0']
    flags = os.environ.get('THINKLINKER_TEST_FLAGS', '').strip()
    if flags: cmd += ['--flags', flags]
    r = subprocess.run(cmd, cwd=NBS.parent, capture_output=True, text=True)
    assert r.returncode == 0, f'{nb.name} failed under nbdev_test:\n{r.stdout[-5000:]}\n{r.stderr[-20000:]}'
