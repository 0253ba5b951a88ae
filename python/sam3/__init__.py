"""SAM 3 (Meta's Segment Anything 3, Promptable Concept Segmentation) in C++, from Python, without PyTorch.

    import sam3
    m = sam3.Model("models/sam3.pt")                 # or Model(path, config="tiny.json", threads=4)
    emb = m.encode("photo.jpg")                      # numpy HxWx3 uint8, a path, or a PIL image
    res = m.segment(emb, ["person", {"text": "dog", "boxes": [([10, 20, 200, 240], True)]}], threshold=0.5)
    res[0].scores, res[0].boxes, res[0].masks        # numpy: (N,), (N, 4) xyxy pixels, bool (N, H, W)
    emb.save("photo.emb.safetensors"); emb = m.load_embedding("photo.emb.safetensors")
    p = m.pick(emb, points=[(470, 420)], labels=[1])  # one object from clicks (a model with interactive weights)
    p.masks, p.ious, p.low_res_logits                # bool (3, H, W), (3,), float32 (3, L, L)
    p = m.pick(emb, points=[(470, 420), (250, 150)], labels=[1, 0], mask_logits=p.low_res_logits[p.best])

Errors from the library are raised as RuntimeError carrying its message (naming the file, key or box at fault);
bad arguments as TypeError / ValueError. Datasets on a Dask cluster: sam3.dask. Docs: docs/python.md.
"""
from ._sam3 import (  # noqa: F401  (the public names)
    ImageEmbedding,
    Model,
    PickResult,
    PromptResult,
    Segmentation,
    default_thread_count,
    list_image_files,
)

__all__ = ["Model", "ImageEmbedding", "Segmentation", "PromptResult", "PickResult", "list_image_files", "default_thread_count"]
