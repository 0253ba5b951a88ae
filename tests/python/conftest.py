# Shared fixtures of the Python tests (ctest label `python`): the tiny fixture model, the golden files, the sam3
# binary, and small readers for safetensors files and COCO RLE strings (so the tests need nothing beyond numpy).
import json
import os
import pathlib
import struct

import numpy as np
import pytest

import sam3

REPO = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = pathlib.Path(os.environ.get("SAM3_GOLDEN_DIR", REPO.parent / "shared" / "golden"))
TINY_PT = GOLDEN / "tiny" / "sam3_random.pt"
TINY_CFG = GOLDEN / "tiny" / "config.json"
TEST_IMAGE = GOLDEN / "images" / "test_image.jpg"  # 1280x720
GROCERIES = GOLDEN / "images" / "groceries.jpg"  # 800x534
SAM3_BIN = pathlib.Path(os.environ.get("SAM3_BIN", REPO / "build" / "sam3"))
# tiny's detector plus the interactive weights (SAM2 neck, prompt encoder, mask decoder): Model.pick works on it.
PVS_PT = GOLDEN / "tiny_pvs" / "sam3_pvs_random.pt"
PVS_CFG = GOLDEN / "tiny_pvs" / "config.json"


@pytest.fixture(scope="session")
def model():
    return sam3.Model(TINY_PT, config=TINY_CFG, dtype="f32", threads=2)  # parity with the fixtures


@pytest.fixture(scope="session")
def pvs_model():
    return sam3.Model(PVS_PT, config=PVS_CFG, dtype="f32", threads=2)  # parity with the tiny_pvs fixtures


def read_safetensors(path):
    """{name: numpy array} of a safetensors file (F32, I64, U8 and the other plain dtypes)."""
    data = pathlib.Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    dtypes = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8,
              "BOOL": np.bool_, "F16": np.float16}
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + b:8 + n + e], dtype=dtypes[t["dtype"]]).reshape(t["shape"])
    return out


def rle_decode(rle):
    """A COCO compressed RLE dict {"size": [h, w], "counts": str} -> bool (h, w) (pycocotools rleFrString)."""
    h, w = rle["size"]
    s = rle["counts"].encode()
    counts, p = [], 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            c = s[p] - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    flat = np.zeros(h * w, dtype=bool)
    pos, val = 0, False
    for c in counts:
        flat[pos:pos + c] = val
        pos += c
        val = not val
    assert pos == h * w, "RLE counts sum to %d, not %d" % (pos, h * w)
    return flat.reshape(w, h).T  # column-major runs
