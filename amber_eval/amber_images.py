"""AMBER's image file names (``AMBER_1.jpg`` .. ``AMBER_1004.jpg``) and their order by number.

>>> image_name(12)
'AMBER_12.jpg'
>>> sorted(["b.jpg", "AMBER_10.jpg", "AMBER_9.png"], key=image_sort_key)
['AMBER_9.png', 'AMBER_10.jpg', 'b.jpg']
"""

from __future__ import annotations

import re

IMAGE_COUNT = 1004
"""How many images AMBER has; image ``n`` (1-based) is also generative item ``n``."""
_AMBER_NAME = re.compile(r"^AMBER_(\d+)\.[A-Za-z]+$")


def image_name(number: int) -> str:
    """The file name of AMBER's image ``number``, as in its query files."""
    return f"AMBER_{number}.jpg"


AMBER_IMAGES: tuple[str, ...] = tuple(image_name(n) for n in range(1, IMAGE_COUNT + 1))
"""Every AMBER image file name, by number."""


def image_sort_key(name: str) -> tuple[int, int, str]:
    """AMBER names first, by number (``AMBER_2`` before ``AMBER_10``); then the others by name."""
    match = _AMBER_NAME.match(name)
    if match:
        return (0, int(match.group(1)), name)
    return (1, 0, name)
