# Type stubs of the compiled module sam3._sam3 (python/src/*.cpp).
import os
from typing import Dict, Iterator, List, Literal, Optional, Sequence, Tuple, TypedDict, Union, overload

import numpy as np
import numpy.typing as npt

PathLike = Union[str, bytes, os.PathLike]
Box = Sequence[float]  # x0, y0, x1, y1 in pixels of the original image

class PromptDict(TypedDict, total=False):
    text: str
    boxes: Sequence[Union[Box, Tuple[Box, bool]]]  # (box, positive); a bare box is positive

Prompt = Union[str, PromptDict]

class CocoRle(TypedDict):
    size: List[int]  # [height, width]
    counts: str  # pycocotools' compressed string

class ImageEmbedding:
    """The encoding of one image that every prompt on it reuses. Immutable."""
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def config_name(self) -> str: ...
    @property
    def encode_ms(self) -> float: ...
    @property
    def pick_bytes(self) -> int: ...
    def save(self, path: PathLike) -> None: ...

class PromptResult:
    """One prompt's instances (score > threshold), in the model's query order."""
    @property
    def text(self) -> str: ...
    @property
    def text_used(self) -> str: ...
    @property
    def threshold(self) -> float: ...
    @property
    def image_width(self) -> int: ...
    @property
    def image_height(self) -> int: ...
    @property
    def scores(self) -> npt.NDArray[np.float32]: ...  # (N,)
    @property
    def boxes(self) -> npt.NDArray[np.float32]: ...  # (N, 4) x0, y0, x1, y1 pixels, not clipped
    @property
    def queries(self) -> npt.NDArray[np.int64]: ...  # (N,)
    @property
    def masks(self) -> Union[npt.NDArray[np.bool_], List[CocoRle], None]: ...  # bool (N, H, W) | RLE | None
    @property
    def semantic(self) -> Union[npt.NDArray[np.bool_], CocoRle, None]: ...  # bool (H, W) | RLE | None
    @property
    def probs(self) -> npt.NDArray[np.float32]: ...  # (Q,) every query's score
    @property
    def timings_ms(self) -> Dict[str, float]: ...
    def __len__(self) -> int: ...

class Segmentation:
    """The results of one Model.segment call: one PromptResult per prompt, in order."""
    def __len__(self) -> int: ...
    def __getitem__(self, i: int) -> PromptResult: ...
    def __iter__(self) -> Iterator[PromptResult]: ...
    @property
    def image_width(self) -> int: ...
    @property
    def image_height(self) -> int: ...
    @property
    def total_ms(self) -> float: ...
    def to_json(self, indent: int = -1) -> str: ...
    def coco_record(self, image_id: int, file_name: str, category_ids: Optional[Sequence[int]] = None) -> str: ...

class PickResult:
    """One Model.pick: the object's candidate masks (3 for a single click, else 1), in the model's order."""
    def __len__(self) -> int: ...
    @property
    def masks(self) -> Optional[npt.NDArray[np.bool_]]: ...  # (K, H, W); None with masks=False
    @property
    def ious(self) -> npt.NDArray[np.float32]: ...  # (K,) predicted IoU of each mask
    @property
    def boxes(self) -> npt.NDArray[np.float32]: ...  # (K, 4) tight box of each mask, x1 y1 exclusive
    @property
    def areas(self) -> npt.NDArray[np.int64]: ...  # (K,)
    @property
    def low_res_logits(self) -> npt.NDArray[np.float32]: ...  # (K, L, L); [k] refines mask k (mask_logits=)
    @property
    def best(self) -> int: ...  # index of the highest IoU
    @property
    def multimask(self) -> bool: ...
    @property
    def object_score(self) -> float: ...  # sigmoid of object_score_logit
    @property
    def object_score_logit(self) -> float: ...
    @property
    def image_width(self) -> int: ...
    @property
    def image_height(self) -> int: ...
    @property
    def low_res_size(self) -> int: ...  # L (288 for SAM 3)
    @property
    def timings_ms(self) -> Dict[str, float]: ...  # neck, decoder, postprocess, total
    def to_json(self, indent: int = -1) -> str: ...

Point = Sequence[float]  # x, y in pixels of the original image

class Model:
    """A loaded SAM 3 model: immutable, thread-safe, weights memory-mapped once."""
    def __init__(
        self,
        path: PathLike,
        config: Optional[PathLike] = None,
        dtype: str = "auto",
        threads: Optional[int] = None,
    ) -> None: ...
    @property
    def path(self) -> str: ...
    @property
    def config_name(self) -> str: ...
    @property
    def input_size(self) -> int: ...
    @property
    def dtype(self) -> str: ...
    @property
    def precision(self) -> str: ...
    @property
    def threads(self) -> int: ...
    @property
    def supports_pick(self) -> bool: ...
    def encode(
        self,
        image: Union[npt.NDArray[np.uint8], PathLike, "PIL.Image.Image"],  # noqa: F821
        pick_features: bool = False,
    ) -> ImageEmbedding: ...
    def load_embedding(self, path: PathLike) -> ImageEmbedding: ...
    def segment(
        self,
        embedding: ImageEmbedding,
        prompts: Union[Prompt, Sequence[Prompt]],
        threshold: float = 0.5,
        masks: Literal["numpy", "rle", "none"] = "numpy",
        semantic: bool = True,
    ) -> Segmentation: ...
    def pick(
        self,
        embedding: ImageEmbedding,
        points: Union[Sequence[Point], npt.NDArray[np.floating], None] = None,  # (N, 2)
        labels: Union[Sequence[Union[int, bool]], npt.NDArray[np.generic], None] = None,  # 1 positive, 0 negative
        box: Optional[Box] = None,
        mask_logits: Optional[npt.NDArray[np.float32]] = None,  # (L, L): PickResult.low_res_logits[k]
        multimask: Optional[bool] = None,
        masks: bool = True,
    ) -> PickResult: ...

def list_image_files(inputs: Sequence[str]) -> List[str]: ...
def default_thread_count() -> int: ...
def _batch_prepare_dir(dir: str, config: str, precision: str, threshold: float, categories: Sequence[str]) -> None: ...
def _batch_failure_record(image_id: int, file_name: str, error: str) -> str: ...
def _batch_finished(dir: str, files: Sequence[str]) -> List[bool]: ...
def _batch_merge(dir: str, config: str, precision: str, threshold: float, categories: Sequence[str], files: Sequence[str]) -> Dict[str, int]: ...
