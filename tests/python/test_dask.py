# sam3.dask on a LocalCluster(n_workers=2, threads_per_worker=1) with the tiny model: the same files as `sam3 batch`
# (byte for byte, corrupt images included), a worker killed mid-run, resuming, and `python3 -m sam3.dask`.
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import GOLDEN, SAM3_BIN, TINY_CFG, TINY_PT, rle_decode

distributed = pytest.importorskip("distributed")
import sam3.dask  # noqa: E402

TEXTS = ["child", "paper bag"]
T = 0.3
FILES = ["results.json", "images.json", "failed.json"]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def make_dataset(root: pathlib.Path, copies: int = 1) -> pathlib.Path:
    d = root / "imgs"
    (d / "sub").mkdir(parents=True)
    for k in range(copies):
        shutil.copy(GOLDEN / "images" / "test_image.jpg", d / ("t%02d.jpg" % k))
        shutil.copy(GOLDEN / "images" / "groceries.jpg", d / "sub" / ("g%02d.jpg" % k))
    (d / "bad.jpg").write_bytes(b"not an image")
    (d / "trunc.jpg").write_bytes((GOLDEN / "images" / "test_image.jpg").read_bytes()[:6000])
    return d


def run_batch(images, out, texts=TEXTS):  # 1 thread, as the Dask tasks: results are identical for equal thread counts
    args = [str(SAM3_BIN), "batch", "-m", str(TINY_PT), "--config", str(TINY_CFG), "--threads", "1", "-i", str(images),
            "--threshold", str(T), "-o", str(out)]
    for t in texts:
        args += ["-t", t]
    return subprocess.run(args, capture_output=True, text=True)


def assert_same_files(a: pathlib.Path, b: pathlib.Path):
    for f in FILES:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f + " differs"


def check_like_pycocotools(out: pathlib.Path):
    """What pycocotools' COCO(images.json).loadRes(results.json) needs of the files (pycocotools is not in Debian)."""
    dataset = json.loads((out / "images.json").read_text())
    anns = json.loads((out / "results.json").read_text())
    assert isinstance(anns, list) and dataset["annotations"] == []
    sizes = {i["id"]: [i["height"], i["width"]] for i in dataset["images"]}
    categories = {c["id"] for c in dataset["categories"]}
    assert len(sizes) == len(dataset["images"])
    for a in anns:
        assert set(a) == {"image_id", "category_id", "bbox", "score", "area", "segmentation"}
        assert a["image_id"] in sizes and a["category_id"] in categories  # loadRes asserts the image ids
        assert a["segmentation"]["size"] == sizes[a["image_id"]] and isinstance(a["segmentation"]["counts"], str)
        assert int(rle_decode(a["segmentation"]).sum()) == a["area"]
        assert len(a["bbox"]) == 4 and a["bbox"][2] > 0 and a["bbox"][3] > 0 and 0 <= a["score"] <= 1
    return len(anns)


def test_same_files_as_sam3_batch(client, tmp_path):
    images = make_dataset(tmp_path)
    ref = run_batch(images, tmp_path / "batch")
    assert ref.returncode == 3, ref.stderr  # two images failed
    s = sam3.dask.segment_images(client, [str(images)], TEXTS, str(tmp_path / "dask"), model=str(TINY_PT),
                                 config=str(TINY_CFG), threshold=T, chunk_size=1)
    assert s == {"images": 4, "done": 2, "failed": 2, "annotations": s["annotations"]} and s["annotations"] > 0
    assert_same_files(tmp_path / "batch", tmp_path / "dask")
    assert check_like_pycocotools(tmp_path / "dask") == s["annotations"]
    assert "cannot decode image" in (tmp_path / "dask" / "failed.json").read_text()
    # Resumable like sam3 batch: a rerun of either finds nothing left but the failed images.
    again = sam3.dask.segment_images(client, [str(images)], TEXTS, str(tmp_path / "dask"), model=str(TINY_PT),
                                     config=str(TINY_CFG), threshold=T)
    assert again == s
    assert_same_files(tmp_path / "batch", tmp_path / "dask")
    rerun = run_batch(images, tmp_path / "dask")
    assert "4 images, 2 done before, 2 to do" in rerun.stderr
    assert_same_files(tmp_path / "batch", tmp_path / "dask")
    # Another threshold in the same directory is refused.
    with pytest.raises(RuntimeError, match="another threshold"):
        sam3.dask.segment_images(client, [str(images)], TEXTS, str(tmp_path / "dask"), model=str(TINY_PT),
                                 config=str(TINY_CFG), threshold=0.4)
    with pytest.raises(ValueError, match="given twice"):
        sam3.dask.segment_images(client, [str(images)], ["a", "a"], str(tmp_path / "x"), model=str(TINY_PT))


def test_resume_after_lost_shards(client, tmp_path):
    images = make_dataset(tmp_path, copies=2)
    ref = run_batch(images, tmp_path / "batch")
    out = tmp_path / "dask"
    sam3.dask.segment_images(client, [str(images)], TEXTS, str(out), model=str(TINY_PT), config=str(TINY_CFG),
                             threshold=T, chunk_size=1, progress=False)
    shards = sorted((out / "shards").glob("*.jsonl"))
    assert len(shards) == 6
    for p in shards[:3]:
        p.unlink()
    (out / "results.json").unlink()
    s = sam3.dask.segment_images(client, [str(images)], TEXTS, str(out), model=str(TINY_PT), config=str(TINY_CFG),
                                 threshold=T, chunk_size=2, progress=False)
    assert s["done"] == 4 and s["failed"] == 2
    assert ref.returncode == 3
    assert_same_files(tmp_path / "batch", out)


def shard_count(out: pathlib.Path) -> int:
    return len(list((out / "shards").glob("*.jsonl"))) if (out / "shards").exists() else 0


def test_killed_worker(client, tmp_path):
    """One of the two workers is killed (SIGKILL) mid-run: Dask reruns its task elsewhere; the files are the same."""
    images = make_dataset(tmp_path, copies=8)  # 16 good images + 2 bad, one image per task
    ref = run_batch(images, tmp_path / "batch")
    assert ref.returncode == 3, ref.stderr
    out = tmp_path / "dask"
    result, error = {}, []

    def run():
        try:
            result.update(sam3.dask.segment_images(client, [str(images)], TEXTS, str(out), model=str(TINY_PT),
                                                   config=str(TINY_CFG), threshold=T, chunk_size=1))
        except Exception as e:  # noqa: BLE001  (reported below)
            error.append(e)

    t = threading.Thread(target=run)
    t.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and shard_count(out) < 2:  # two images done: both workers have the model
        time.sleep(0.02)
    pids = client.run(os.getpid)  # {worker address: pid}
    victim = sorted(pids.values())[0]
    shards_at_kill = shard_count(out)
    os.kill(victim, signal.SIGKILL)
    t.join(timeout=300)
    assert not t.is_alive(), "the run did not finish after a worker was killed"
    assert not error, error
    assert shards_at_kill < 18, "the run ended before the kill: nothing was tested"
    assert result["done"] == 16 and result["failed"] == 2
    assert_same_files(tmp_path / "batch", out)
    assert victim not in client.run(os.getpid).values()  # the worker was really replaced


def test_command_line(tmp_path):
    images = make_dataset(tmp_path)
    ref = run_batch(images, tmp_path / "batch")
    env = dict(os.environ)
    p = subprocess.run([sys.executable, "-m", "sam3.dask", "--workers", "2", "-m", str(TINY_PT), "--config",
                        str(TINY_CFG), "-i", str(images), "-t", TEXTS[0], "-t", TEXTS[1], "--threshold", str(T),
                        "-o", str(tmp_path / "cmd")], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 3, p.stderr  # some images failed, as sam3 batch says
    assert "4 images: 2 done, 2 failed" in p.stdout
    assert ref.returncode == 3
    assert_same_files(tmp_path / "batch", tmp_path / "cmd")
    bad = subprocess.run([sys.executable, "-m", "sam3.dask", "--workers", "1", "-m", str(tmp_path / "nope.pt"), "-i",
                          str(images), "-t", "x", "-o", str(tmp_path / "x")], capture_output=True, text=True,
                         env=env, timeout=300)
    assert bad.returncode == 1 and "nope.pt" in bad.stderr
