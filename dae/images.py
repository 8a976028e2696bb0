"""A user's own image of a handwritten digit, brought to the form of the MNIST digits.

MNIST's digits were made so (LeCun et al.): the digit size-normalised to fit a 20x20 box, its
aspect ratio kept, anti-aliased to grey levels, then centred by its centre of mass in a 28x28
field; white strokes on black. `to_mnist` does the same to a photo or scan, after turning it
grey and, when the paper is lighter than the ink, inverting it.
"""

import numpy as np
from PIL import Image, ImageOps

from dae.idx import IMAGE_SHAPE

BOX = 20  # the digit's longer side, in pixels
# A pixel belongs to the digit when it is this far from the paper towards the ink; paper grain and
# shadows below it are cut away before the crop.
INK_THRESHOLD = 0.35


class ImageError(ValueError):
    """A file that cannot be read as an image, or holds no digit; the message names the file."""


# Grey images of 16 bits a pixel (scanners write them), as Pillow opens them: `convert("L")`
# would clip their levels at 255 instead of scaling them. They are scaled by the smallest depth
# that holds their brightest pixel (2**12 - 1 for a 12-bit scanner's levels in a 16-bit file).
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def read_grey(path):
    """The image at `path` as float grey levels in [0, 1], upright as its EXIF orientation says (a
    phone's photo held sideways); transparent parts count as white paper."""
    try:
        with Image.open(path) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode in SIXTEEN_BIT_MODES:
                levels = np.clip(np.asarray(image, dtype=np.float32), 0.0, 65535.0)
                depth = min(max(int(levels.max()).bit_length(), 8), 16)
                return levels / np.float32(2**depth - 1)
            if image.mode in ("RGBA", "LA", "P", "PA"):
                image = image.convert("RGBA")
                paper = Image.new("RGBA", image.size, "white")
                image = Image.alpha_composite(paper, image)
            return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ImageError(f"{path}: cannot read as an image: {error}") from error


def to_mnist(grey, path="image"):
    """A 2-D array of grey levels in [0, 1] as a 28x28 MNIST-like digit (float32, ink 1, paper 0)."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    paper = float(np.median(border))
    ink = grey.min() if paper > 0.5 else grey.max()  # dark ink on light paper, or light on dark
    contrast = abs(paper - ink)
    if contrast < 0.1:
        raise ImageError(f"{path}: found no digit: the image is almost uniform (contrast {contrast:.2f})")
    # 0 for paper, 1 for the darkest (or lightest) ink; what is fainter than INK_THRESHOLD is paper,
    # and so is what lies beyond the paper away from the ink (glare on dark-on-light paper).
    strokes = np.clip((grey - paper) / (ink - paper), 0.0, 1.0)
    strokes = np.where(strokes >= INK_THRESHOLD, strokes, 0.0)
    rows, columns = np.nonzero(strokes)
    digit = strokes[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    scale = BOX / max(digit.shape)
    size = (max(1, round(digit.shape[1] * scale)), max(1, round(digit.shape[0] * scale)))
    # Pillow's Lanczos filter anti-aliases on the way down, as MNIST's normalisation did.
    boxed = np.asarray(Image.fromarray(digit.astype(np.float32), mode="F").resize(size, Image.Resampling.LANCZOS))
    boxed = np.clip(boxed, 0.0, 1.0)
    field = np.zeros(IMAGE_SHAPE, np.float32)
    # Centre of mass to the field's centre (rounded to whole pixels), the box kept inside the field.
    mass_row, mass_column = (np.average(np.arange(n), weights=boxed.sum(axis=1 - axis)) for axis, n in enumerate(boxed.shape))
    top = int(np.clip(round(IMAGE_SHAPE[0] / 2 - mass_row - 0.5), 0, IMAGE_SHAPE[0] - boxed.shape[0]))
    left = int(np.clip(round(IMAGE_SHAPE[1] / 2 - mass_column - 0.5), 0, IMAGE_SHAPE[1] - boxed.shape[1]))
    field[top : top + boxed.shape[0], left : left + boxed.shape[1]] = boxed
    return field / field.max()
