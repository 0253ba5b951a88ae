"""python3 -m sam3.dask: `sam3 batch` on a dask.distributed cluster (docs/python.md).

    python3 -m sam3.dask --scheduler tcp://host:8786 -m /models/sam3.pt -i /data/frames -t forklift -o /data/out
    python3 -m sam3.dask --workers 2 -m sam3.pt -i photos -t dog -o out        # a local cluster on this machine

Exit code: 0 every image done, 3 some images failed (listed in OUT/failed.json), 1 error, 2 bad options.
"""
import argparse
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m sam3.dask", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scheduler", help="address of the Dask scheduler (tcp://host:8786); default: a local cluster")
    p.add_argument("--workers", type=int, default=2, help="local cluster only: worker processes (default 2)")
    p.add_argument("-m", "--model", required=True, help="checkpoint (sam3.pt or .safetensors), same path on workers")
    p.add_argument("--config", help="config document (JSON)")
    p.add_argument("--dtype", default="auto", help="precision (default auto)")
    p.add_argument("-i", "--input", action="append", required=True, help="image dir, image or list file; repeatable")
    p.add_argument("-t", "--text", action="append", required=True, help="text prompt (one category); repeatable")
    p.add_argument("--threshold", type=float, default=0.5, help="keep instances with score > T (default 0.5)")
    p.add_argument("--threads", type=int, default=1, help="threads per task (default 1: one per worker thread)")
    p.add_argument("--chunk-size", type=int, default=4, help="images per task (default 4)")
    p.add_argument("-o", "--output", required=True, help="output directory (a rerun resumes)")
    a = p.parse_args(argv)
    if not 0.0 <= a.threshold <= 1.0:
        p.error("--threshold must be in [0, 1]")

    from distributed import Client, LocalCluster

    from . import segment_images

    try:
        if a.scheduler:
            client = Client(a.scheduler)
        else:
            client = Client(LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                                         dashboard_address=":0"))
        with client:
            s = segment_images(client, a.input, a.text, a.output, model=a.model, config=a.config, dtype=a.dtype,
                               threshold=a.threshold, threads=a.threads, chunk_size=a.chunk_size)
    except (RuntimeError, ValueError, OSError) as e:
        print("sam3.dask: error: %s" % e, file=sys.stderr)
        return 1
    print("%d images: %d done, %d failed; %d instances -> %s/results.json, %s/images.json" %
          (s["images"], s["done"], s["failed"], s["annotations"], a.output, a.output))
    if s["failed"]:
        print("sam3.dask: %d of %d images failed (listed in %s/failed.json)" % (s["failed"], s["images"], a.output),
              file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
