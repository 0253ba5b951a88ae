"""Datasets on a dask.distributed cluster: the images of a dataset x text prompts -> COCO results.

    from distributed import Client
    import sam3.dask
    client = Client("tcp://scheduler:8786")
    summary = sam3.dask.segment_images(client, ["/data/frames"], ["forklift"], "/data/out", model="/models/sam3.pt")

Each worker process loads the model once (the first task it runs) and keeps it. Tasks are small chunks of images;
each task writes its records as one shard file (out_dir/shards/*.jsonl, written whole then renamed), and the shards
are merged into out_dir/results.json, images.json and failed.json by the same code as `sam3 batch`, so the files
are byte for byte those `sam3 batch` writes for the same inputs (docs/batch.md). A rerun skips the images done
(whichever of the two wrote them); a worker that dies loses only its in-flight tasks, which Dask runs again
elsewhere. Images, model and out_dir must be at the same paths on every machine (shared storage, or copies).
"""
import os
import sys
import time
import uuid
from typing import Dict, List, Optional, Sequence, Tuple, Union

from .. import _sam3

__all__ = ["segment_images"]

# Per worker process: models already loaded, by (path, config, dtype, threads). A process-local cache is how a Dask
# worker keeps state between tasks; the library itself keeps none.
_MODELS: Dict[Tuple[str, str, str, int], "_sam3.Model"] = {}


def _model(path: str, config: Optional[str], dtype: str, threads: int) -> "_sam3.Model":
    key = (path, config or "", dtype, threads)
    if key not in _MODELS:
        _MODELS[key] = _sam3.Model(path, config=config, dtype=dtype, threads=threads)
    return _MODELS[key]


def _config_name(path: str, config: Optional[str], dtype: str, threads: int) -> Tuple[str, str]:
    m = _model(path, config, dtype, threads)
    return m.config_name, m.precision


def _run_chunk(chunk: List[Tuple[int, str]], texts: List[str], threshold: float, out_dir: str, path: str,
               config: Optional[str], dtype: str, threads: int) -> Tuple[int, int]:
    """Segments the images of one chunk ((image id, file name) pairs) and writes their records as one shard."""
    m = _model(path, config, dtype, threads)
    categories = list(range(1, len(texts) + 1))
    records, failed = [], 0
    for image_id, file_name in chunk:
        try:
            emb = m.encode(file_name)
            res = m.segment(emb, texts, threshold=threshold, masks="rle", semantic=False)
            records.append(res.coco_record(image_id, file_name, categories))
        except RuntimeError as e:  # the library's errors: unreadable image, ...
            records.append(_sam3._batch_failure_record(image_id, file_name, str(e)))
            failed += 1
    shards = os.path.join(out_dir, "shards")
    name = "part-%09d-%09d-%s.jsonl" % (chunk[0][0], chunk[-1][0], uuid.uuid4().hex[:12])
    tmp = os.path.join(shards, "." + name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("".join(r + "\n" for r in records))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(shards, name))
    return len(chunk), failed


def segment_images(client, paths: Union[str, Sequence[str]], prompts: Sequence[str], out_dir: str, model: str,
                   config: Optional[str] = None, dtype: str = "auto", threshold: float = 0.5, threads: int = 1,
                   chunk_size: int = 4, progress: bool = True) -> Dict[str, int]:
    """Segments every image that `paths` name with every text of `prompts` on the cluster of `client`.

    paths: directories, image files and list files, as `sam3 batch -i` takes them (sam3.list_image_files).
    prompts: texts, one COCO category each (ids 1, 2, ... in this order).
    out_dir: the output directory (created; a rerun resumes; see docs/batch.md for the files).
    model, config, dtype: as sam3.Model; `threads` is each task's thread count (one per worker thread is right
    when workers have as many threads as cores). chunk_size: images per task.
    Returns {"images", "done", "failed", "annotations"}; images that failed are listed in out_dir/failed.json.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    texts = list(prompts)
    if not texts:
        raise ValueError("prompts: give at least one text")
    for t in texts:
        if not isinstance(t, str) or not t.strip():
            raise ValueError("prompts: every prompt is a non-empty text (got %r)" % (t,))
    if len(set(texts)) != len(texts):
        raise ValueError("prompts: a text is given twice (one category per prompt)")
    if chunk_size < 1 or threads < 1:
        raise ValueError("chunk_size and threads must be positive")
    files = _sam3.list_image_files([os.fspath(p) for p in paths])
    if not files:
        raise ValueError("the inputs hold no images (.jpg, .jpeg, .png)")
    model = os.fspath(model)
    config = os.fspath(config) if config is not None else None
    # One task first: loads the model on a worker (so a bad path fails early) and gives its config and precision for
    # run.json (the workers are assumed alike: a cluster of mixed CPUs should pass dtype explicitly, not "auto").
    config_name, precision = client.submit(_config_name, model, config, dtype, threads, pure=False).result()
    _sam3._batch_prepare_dir(out_dir, config_name, precision, threshold, texts)
    done = _sam3._batch_finished(out_dir, files)
    todo = [(i + 1, f) for i, f in enumerate(files) if not done[i]]
    chunks = [todo[k:k + chunk_size] for k in range(0, len(todo), chunk_size)]
    if progress:
        print("sam3.dask: %d images, %d done before, %d to do in %d tasks" %
              (len(files), len(files) - len(todo), len(todo), len(chunks)), file=sys.stderr)
    from distributed import as_completed  # imported here: sam3 itself does not need dask

    futures = [client.submit(_run_chunk, c, texts, threshold, out_dir, model, config, dtype, threads, pure=False)
               for c in chunks]
    t0, n_done, n_failed = time.monotonic(), 0, 0
    for fut in as_completed(futures):
        n, failed = fut.result()
        n_done += n
        n_failed += failed
        if progress:
            s = time.monotonic() - t0
            rate = n_done / s if s > 0 else 0.0
            eta = (len(todo) - n_done) / rate if rate > 0 else 0.0
            print("sam3.dask: [%d/%d] %.1f%%, %.2f images/s, ETA %dm%02ds%s" %
                  (len(files) - len(todo) + n_done, len(files), 100.0 * (len(files) - len(todo) + n_done) / len(files),
                   rate, eta // 60, eta % 60, ", %d failed" % n_failed if n_failed else ""), file=sys.stderr)
    return _sam3._batch_merge(out_dir, config_name, precision, threshold, texts, files)
