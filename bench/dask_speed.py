"""Throughput of sam3.dask with 1 and with 2 workers (1 thread each) on the same images: images/s and the ratio.

    PYTHONPATH=build/python /usr/bin/python3 bench/dask_speed.py MODEL CONFIG IMAGE_DIR TEXT [TEXT ...]

The workers load the model before the clock starts (each worker once), so the numbers are the steady state of a
long run. A benchmark, not a test: run it on a quiet machine (docs/batch.md has the numbers).
"""
import os
import shutil
import sys
import tempfile
import time

from distributed import Client, LocalCluster

import sam3.dask


def run(n_workers, model, config, images, texts):
    out = tempfile.mkdtemp(prefix="sam3-dask-speed-")
    try:
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
                Client(cl) as client:
            client.run(sam3.dask._config_name, model, config, "auto", 1)  # load the model on every worker first
            t0 = time.monotonic()
            s = sam3.dask.segment_images(client, [images], texts, out, model=model, config=config, threads=1,
                                         chunk_size=1, progress=False)
            return s["done"], time.monotonic() - t0
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    model, config, images, texts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    rates = {}
    for n in (1, 2):
        done, s = run(n, model, config, images, texts)
        rates[n] = done / s
        print("sam3.dask, %d worker%s x 1 thread: %d images in %.2f s = %.3f images/s" %
              (n, "s" if n > 1 else "", done, s, rates[n]), flush=True)
    print("2 workers / 1 worker: %.2fx (goal >= 1.7x on 2 cores); load average %s" %
          (rates[2] / rates[1], " ".join("%.1f" % x for x in os.getloadavg())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
