"""Image store vs JPEG decoding (issue 24): write N 640x480 JPEGs, build the uint8 store at S px with every core,
then read it through the DataLoader (`StepLoader`) in items of `batch` random rows; decode a part of the JPEGs
through the encoder's PIL path for comparison. Prints one JSON line. Reads come from the page cache (the store was
just written): the figure is the loader's own rate, not a cold disk's."""
import argparse, json, os, tempfile, time
from pathlib import Path
import torch
from thinklinker.model.clip import ClipEncoder
from thinklinker.model.store import ImageStore, default_workers
from thinklinker.model.loader import write_jpegs, store_throughput, decode_throughput, loader_workers

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument('--n', type=int, default=2000, help='JPEG files')
ap.add_argument('--size', type=int, default=224, help='stored image size (px)')
ap.add_argument('--batch', type=int, default=256, help='rows per DataLoader item')
ap.add_argument('--steps', type=int, default=100, help='DataLoader items read')
ap.add_argument('--workers', type=int, default=None, help='DataLoader workers (default: min(8, cores - 1))')
ap.add_argument('--decode', type=int, default=300, help='JPEGs decoded through the PIL path for comparison')
a = ap.parse_args()
torch.set_num_threads(1)
with tempfile.TemporaryDirectory() as td:
    td = Path(td)
    t0 = time.time()
    paths = write_jpegs(td / 'jpg', a.n)
    gen_s = time.time() - t0
    enc = ClipEncoder('tl-tiny', pretrained='random', device='cpu', image_size=a.size)  # CLIP's preprocessing at S px
    t0 = time.time()
    st = ImageStore.build(paths, enc, td / 'store', progress=False)
    build_s = time.time() - t0
    dec = decode_throughput(enc, paths[:a.decode])
    rd = store_throughput(st, n_steps=a.steps, batch=a.batch, workers=a.workers)
    print(json.dumps({'cores': os.cpu_count(), 'jpeg_files': a.n, 'jpeg_MB': round(sum(p.stat().st_size for p in paths) / 1e6, 1),
                      'write_jpegs_s': round(gen_s, 1), 'store_build_s': round(build_s, 2),
                      'store_build_images_per_s': round(a.n / build_s, 1), 'build_workers': default_workers(),
                      'store_MB': round(st.nbytes / 1e6, 1), 'bytes_per_image': st.spec.nbytes_per_image(),
                      'decode_images_per_s_1core': dec['images_per_s'], 'loader': rd}))
