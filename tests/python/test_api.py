# The Python package against the fixtures and against `sam3 segment`'s JSON: encode (path, numpy, PIL), segment
# (texts, boxes, boxes only), masks as numpy and as RLE, embeddings on disk, errors, the GIL released.
import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import sam3
from conftest import GOLDEN, GROCERIES, SAM3_BIN, TEST_IMAGE, TINY_CFG, TINY_PT, read_safetensors, rle_decode


def test_model_properties(model):
    assert model.config_name == "tiny"
    assert model.threads == 2
    assert model.dtype == "f32"
    assert "tiny" in repr(model)
    assert sam3.default_thread_count() >= 1


def test_case1_matches_fixture(model):
    """test_image.case1: 'child' at the fixture's threshold: same kept queries, scores and masks as PyTorch."""
    case = read_safetensors(GOLDEN / "tiny" / "test_image.case1.safetensors")
    res = model.segment(model.encode(TEST_IMAGE), ["child"], threshold=0.346949)
    assert len(res) == 1
    r = res[0]
    assert r.text == "child" and r.text_used == "child"
    np.testing.assert_array_equal(r.queries, case["final.keep_idx"].reshape(-1))
    np.testing.assert_allclose(r.scores, case["final.scores"].reshape(-1), atol=1e-5)
    assert r.masks.dtype == np.bool_ and r.masks.shape == (len(r), 720, 1280)
    ref = np.unpackbits(case["final.masks_packbits"], axis=-1)[:, :1280 * 720].reshape(-1, 720, 1280).astype(bool)
    for k in range(len(r)):
        assert np.count_nonzero(r.masks[k] != ref[k]) <= 4
    assert r.boxes.shape == (len(r), 4) and r.boxes.dtype == np.float32
    assert r.semantic.shape == (720, 1280)
    assert r.probs.shape[0] > len(r)


def test_case4_boxes_match_fixture(model):
    """test_image.case4: 'child' + a positive and a negative box (pixels) -> the fixture's instances."""
    case = read_safetensors(GOLDEN / "tiny" / "test_image.case4.safetensors")
    prompt = {"text": "child", "boxes": [([359.68, 280.08, 492.8, 661.68], True),
                                         ([147.2, 53.28, 347.2, 253.44], False)]}
    r = model.segment(model.encode(TEST_IMAGE), [prompt], threshold=0.353152)[0]
    np.testing.assert_array_equal(r.queries, case["final.keep_idx"].reshape(-1))
    np.testing.assert_allclose(r.scores, case["final.scores"].reshape(-1), atol=1e-4)


def results_of(doc: str):
    """A result document without its timings: what must be identical between two runs."""
    d = json.loads(doc)
    d.pop("timings_ms")
    for p in d["prompts"]:
        p.pop("timings_ms")
    return d


def test_encode_inputs_agree(model):
    """A path, a numpy array and a PIL image of the same picture give the same embedding and results."""
    from_path = model.segment(model.encode(str(TEST_IMAGE)), "child", threshold=0.3, masks="rle")
    pixels = read_safetensors(GOLDEN / "tiny" / "test_image.image.safetensors")["input.image_rgb_u8"]
    pixels = pixels.reshape(720, 1280, 3)
    from_array = model.segment(model.encode(pixels), "child", threshold=0.3, masks="rle")
    assert results_of(from_path.to_json()) == results_of(from_array.to_json())
    from_strided = model.segment(model.encode(np.ascontiguousarray(pixels[:, ::-1])[:, ::-1]), "child",
                                 threshold=0.3, masks="rle")
    assert results_of(from_strided.to_json()) == results_of(from_path.to_json())  # non-contiguous arrays are copied, not misread
    PIL = pytest.importorskip("PIL.Image")
    from_pil = model.segment(model.encode(PIL.open(TEST_IMAGE)), "child", threshold=0.3, masks="rle")
    assert results_of(from_pil.to_json()) == results_of(from_path.to_json())


def cli_json(*args):
    out = subprocess.run([str(SAM3_BIN), "segment", "-m", str(TINY_PT), "--config", str(TINY_CFG), "--dtype", "f32",
                          "--threads", "2", "-o", "-", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def test_same_as_cli_json(model):
    """The same prompts through Python and through `sam3 segment -o -`: the same prompts, instances and masks."""
    cli = cli_json("-i", str(GROCERIES), "-t", "child", "--box", "100,50,400,300", "-t", "paper bag",
                   "--neg-box", "500,100,700,400", "-t", "visual", "--threshold", "0.3")
    prompts = [{"text": "child", "boxes": [[100, 50, 400, 300]]},
               {"text": "paper bag", "boxes": [([500, 100, 700, 400], False)]},
               "visual"]
    res = model.segment(model.encode(GROCERIES), prompts, threshold=0.3, masks="rle")
    mine = json.loads(res.to_json())
    assert len(cli["prompts"]) == len(mine["prompts"]) == 3
    n = 0
    for c, m in zip(cli["prompts"], mine["prompts"]):
        c.pop("timings_ms")
        m.pop("timings_ms")
        assert c == m
        n += len(c["instances"])
    assert n > 0
    # masks="rle" gives the CLI's strings; masks="numpy" the same pixels.
    as_numpy = model.segment(model.encode(GROCERIES), prompts, threshold=0.3)
    for k, p in enumerate(cli["prompts"]):
        assert [i["mask"] for i in p["instances"]] == res[k].masks
        for i, inst in enumerate(p["instances"]):
            np.testing.assert_array_equal(as_numpy[k].masks[i], rle_decode(inst["mask"]))
            assert int(as_numpy[k].masks[i].sum()) == inst["area"]
        np.testing.assert_array_equal(as_numpy[k].semantic, rle_decode(p["semantic"]))
        np.testing.assert_array_equal(as_numpy[k].scores, np.array([i["score"] for i in p["instances"]], np.float32))
        np.testing.assert_array_equal(as_numpy[k].boxes.reshape(-1, 4),
                                      np.array([i["box"] for i in p["instances"]], np.float32).reshape(-1, 4))


def test_embedding_save_load(model, tmp_path):
    emb = model.encode(GROCERIES)
    assert (emb.width, emb.height, emb.config_name) == (800, 534, "tiny")
    assert emb.encode_ms > 0
    path = tmp_path / "g.safetensors"
    emb.save(path)
    again = model.load_embedding(path)
    assert (again.width, again.height) == (800, 534)
    a = model.segment(emb, ["child", "paper bag"], threshold=0.3, masks="rle").to_json()
    b = model.segment(again, ["child", "paper bag"], threshold=0.3, masks="rle").to_json()
    assert json.loads(a)["prompts"][0]["instances"] == json.loads(b)["prompts"][0]["instances"]
    assert json.loads(a)["prompts"][1]["instances"] == json.loads(b)["prompts"][1]["instances"]
    # sam3 encode's file reads back too.
    cli = tmp_path / "cli.safetensors"
    subprocess.run([str(SAM3_BIN), "encode", "-m", str(TINY_PT), "--config", str(TINY_CFG), "--dtype", "f32",
                    "-i", str(GROCERIES), "-o", str(cli)], check=True, capture_output=True)
    c = model.segment(model.load_embedding(cli), ["child", "paper bag"], threshold=0.3, masks="rle").to_json()
    assert json.loads(c)["prompts"][0]["instances"] == json.loads(a)["prompts"][0]["instances"]


def test_masks_none_and_coco_record(model):
    res = model.segment(model.encode(GROCERIES), ["child"], threshold=0.3, masks="none", semantic=False)
    assert res[0].masks is None and res[0].semantic is None and len(res[0]) > 0
    full = model.segment(model.encode(GROCERIES), ["child"], threshold=0.3)
    rec = json.loads(full.coco_record(7, "g.jpg", [3]))
    assert rec["image"] == {"id": 7, "file_name": "g.jpg", "width": 800, "height": 534}
    assert len(rec["annotations"]) == len(full[0])
    a = rec["annotations"][0]
    assert a["image_id"] == 7 and a["category_id"] == 3
    x0, y0, x1, y1 = full[0].boxes[0]
    assert a["bbox"] == pytest.approx([x0, y0, x1 - x0, y1 - y0], abs=1e-4)
    np.testing.assert_array_equal(rle_decode(a["segmentation"]), full[0].masks[0])
    assert [p.text for p in full] == ["child"]  # iterable


def test_errors_carry_the_library_message(model, tmp_path):
    with pytest.raises(RuntimeError, match="nope.pt"):
        sam3.Model(tmp_path / "nope.pt")
    with pytest.raises(RuntimeError):  # the tiny checkpoint against the official config
        sam3.Model(TINY_PT)
    with pytest.raises(ValueError, match="dtype 'int3'"):
        sam3.Model(TINY_PT, config=TINY_CFG, dtype="int3")
    with pytest.raises(ValueError, match="threads"):
        sam3.Model(TINY_PT, config=TINY_CFG, threads=0)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(RuntimeError, match="cannot decode image .*bad.jpg"):
        model.encode(bad)
    with pytest.raises(RuntimeError, match="nope.jpg"):
        model.encode(tmp_path / "nope.jpg")
    with pytest.raises(TypeError, match="uint8"):
        model.encode(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError, match="H x W x 3"):
        model.encode(np.zeros((10, 10), np.uint8))
    with pytest.raises(TypeError, match="expected a numpy"):
        model.encode(42)
    emb = model.encode(GROCERIES)
    with pytest.raises(ValueError, match=r"prompts\[0\]: degenerate box"):
        model.segment(emb, [{"text": "dog", "boxes": [[10, 10, 5, 20]]}])
    with pytest.raises(ValueError, match="lies entirely outside"):
        model.segment(emb, [{"boxes": [[900, 10, 950, 20]]}])
    with pytest.raises(ValueError, match="unknown key 'box'"):
        model.segment(emb, [{"text": "dog", "box": [1, 2, 3, 4]}])
    with pytest.raises(ValueError, match="needs a text and/or boxes"):
        model.segment(emb, [{}])
    with pytest.raises(ValueError, match="no prompt"):
        model.segment(emb, [])
    with pytest.raises(ValueError, match="masks"):
        model.segment(emb, "dog", masks="png")
    with pytest.raises(ValueError, match="threshold"):
        model.segment(emb, "dog", threshold=1.5)
    with pytest.raises(RuntimeError, match="nope.safetensors"):
        model.load_embedding(tmp_path / "nope.safetensors")


def test_gil_released_while_encoding(model):
    """Another Python thread keeps running while encode() and segment() compute."""
    image = np.random.default_rng(0).integers(0, 256, (1500, 2000, 3), dtype=np.uint8)
    running = threading.Event()
    ticks = []

    def count():
        running.wait()
        while running.is_set():
            ticks.append(1)
            time.sleep(0)

    t = threading.Thread(target=count)
    t.start()
    running.set()
    t0 = time.monotonic()
    emb = model.encode(image)
    model.segment(emb, ["child", "paper bag"], threshold=0.3)
    busy = time.monotonic() - t0
    running.clear()
    t.join()
    assert busy > 0.01
    assert len(ticks) > 100, "only %d ticks in %.3f s: the GIL was held" % (len(ticks), busy)


def test_concurrent_calls_agree(model):
    """Model is thread-safe: two threads encoding and segmenting at once get what one thread gets."""
    want = model.segment(model.encode(TEST_IMAGE), ["child"], threshold=0.3, masks="rle").to_json()
    got = [None, None]

    def work(k):
        got[k] = model.segment(model.encode(TEST_IMAGE), ["child"], threshold=0.3, masks="rle").to_json()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results_of(got[0]) == results_of(want) and results_of(got[1]) == results_of(want)


def test_first_calls_from_two_threads():
    """A fresh interpreter whose first encode() calls come from two threads at once (no deadlock on first use)."""
    code = ("import sys, threading, sam3\n"
            "m = sam3.Model(sys.argv[1], config=sys.argv[2], threads=1)\n"
            "out = []\n"
            "ts = [threading.Thread(target=lambda: out.append(m.encode(sys.argv[3]).width)) for _ in range(2)]\n"
            "[t.start() for t in ts]\n"
            "[t.join() for t in ts]\n"
            "print(out)\n")
    p = subprocess.run([sys.executable, "-c", code, str(TINY_PT), str(TINY_CFG), str(GROCERIES)], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[800, 800]"


def test_list_image_files(tmp_path):
    (tmp_path / "d" / "s").mkdir(parents=True)
    for name in ["d/b.jpg", "d/a.PNG", "d/s/c.jpeg", "d/x.txt"]:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "list.txt").write_text("# c\nd/x.txt\n\nd/b.jpg\n")
    files = sam3.list_image_files([str(tmp_path / "d")])
    assert files == [str(tmp_path / "d/a.PNG"), str(tmp_path / "d/b.jpg"), str(tmp_path / "d/s/c.jpeg")]
    assert sam3.list_image_files([str(tmp_path / "list.txt")]) == [str(tmp_path / "d/x.txt"), str(tmp_path / "d/b.jpg")]
    with pytest.raises(RuntimeError, match="named twice"):
        sam3.list_image_files([str(tmp_path / "d"), str(tmp_path / "d/b.jpg")])


def test_reduced_precision_close_to_f32(model):
    """dtype reaches the library: an int8 model answers like the f32 one within the int8 gate (docs/precision.md)."""
    m8 = sam3.Model(TINY_PT, config=TINY_CFG, dtype="int8", threads=2)
    a = model.segment(model.encode(GROCERIES), "child", threshold=0.3)
    b = m8.segment(m8.encode(GROCERIES), "child", threshold=0.3)
    assert len(a[0].probs) == len(b[0].probs) > 0
    assert np.max(np.abs(a[0].probs - b[0].probs)) <= 0.03
    assert '"precision":"f32"' in a.to_json().replace(" ", "")
    assert '"precision":"int8"' in b.to_json().replace(" ", "")
