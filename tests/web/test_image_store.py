"""The image store: content addresses, LRU eviction by bytes, pinning, caches."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from server.store import ImageNotFoundError, ImageStore


def test_store_reuses_id_when_bytes_repeat(tmp_path: Path, make_image: Callable[..., bytes]
                                           ) -> None:
    store = ImageStore(tmp_path, max_bytes=10**6)
    data = make_image()
    assert store.add(data).id == store.add(data).id == ImageStore.make_id(data)
    assert len(store.ids()) == 1


def test_store_evicts_least_recently_used_when_over_budget(
        tmp_path: Path, make_image: Callable[..., bytes]) -> None:
    images = [make_image("BMP", (20, 20 + i)) for i in range(3)]  # BMP: predictable sizes
    store = ImageStore(tmp_path, max_bytes=len(images[0]) + len(images[2]) + 10)
    first, second = store.add(images[0]), store.add(images[1])
    old = time.time() - 100
    os.utime(tmp_path / f"{second.id}.img", (old, old))  # second is now the oldest
    store.get(first.id)
    store.add(images[2])
    assert set(store.ids()) == {first.id, ImageStore.make_id(images[2])}
    with pytest.raises(ImageNotFoundError):
        store.get(second.id)


def test_store_keeps_pinned_when_over_budget(tmp_path: Path, make_image: Callable[..., bytes]
                                             ) -> None:
    a, b = make_image("BMP", (30, 30)), make_image("BMP", (31, 31))
    store = ImageStore(tmp_path, max_bytes=len(a) + 1)
    pinned = store.add(a, pinned=True)
    newest = store.add(b)
    assert set(store.ids()) == {pinned.id, newest.id}  # over budget rather than lose a sample


def test_store_survives_new_instance_when_same_root(tmp_path: Path,
                                                    make_image: Callable[..., bytes]) -> None:
    record = ImageStore(tmp_path, max_bytes=10**6).add(make_image("PNG", (7, 5)))
    again = ImageStore(tmp_path, max_bytes=10**6)
    assert again.get(record.id) == record
    assert again.array(record.id, "gray").shape == (5, 7)


def test_store_caches_arrays_read_only_when_requested_twice(
        tmp_path: Path, make_image: Callable[..., bytes]) -> None:
    store = ImageStore(tmp_path, max_bytes=10**6)
    image_id = store.add(make_image()).id
    first = store.array(image_id, "rgb", 8)
    assert store.array(image_id, "rgb", 8) is first
    assert not first.flags.writeable
    with pytest.raises(ValueError):
        first[0, 0, 0] = 1.0
    assert np.array_equal(store.array(image_id, "rgb"), store.array(image_id, "rgb"))


@pytest.mark.parametrize("image_id", ["", "zz", "../../etc/passwd", "0" * 64, 5])
def test_store_raises_not_found_when_id_invalid(tmp_path: Path, image_id: object) -> None:
    with pytest.raises(ImageNotFoundError):
        ImageStore(tmp_path, max_bytes=10**6).get(image_id)  # type: ignore[arg-type]
