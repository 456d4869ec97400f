"""Settings: every knob of the service, read from ``SVERTKA_*`` environment variables.

Each field carries a description because the README documents every setting from these and a
test checks that none is missing. Limits are deliberately generous for one laptop and tight enough
that a single request cannot take the server down.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1024 * 1024


def _default_data_dir() -> Path:
    # XDG first so containers and CI can redirect the cache without setting SVERTKA_DATA_DIR
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "svertka"


def _default_concurrency() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class Settings(BaseSettings):
    """Service configuration; every field can be set as ``SVERTKA_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="SVERTKA_", extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Directory for uploaded images (created on start; default: a `svertka` "
        "folder in the user's cache directory, `$XDG_CACHE_HOME` or `~/.cache`).",
    )
    store_max_bytes: int = Field(
        default=512 * MB, ge=1,
        description="Upper bound on the bytes of uploads kept in the store, for each kind "
        "(images, models); the least recently used are deleted beyond it (sample photos are "
        "never evicted).",
    )
    decode_cache_bytes: int = Field(
        default=256 * MB, ge=0,
        description="Memory for decoded images kept between requests, so repeated requests on "
        "the same photo do not decode it again (0 disables the cache).",
    )
    max_upload_bytes: int = Field(
        default=20 * MB, ge=1,
        description="Largest accepted upload and largest JSON request body, in bytes (413 beyond).",
    )
    max_pixels: int = Field(
        default=40_000_000, ge=1,
        description="Largest decoded image in pixels (width x height); also Pillow's "
        "decompression-bomb guard (413 beyond).",
    )
    max_output_elements: int = Field(
        default=50_000_000, ge=1,
        description="Largest result a request may produce, in array elements, checked before "
        "computing (422 with code `limit` beyond).",
    )
    max_work: int = Field(
        default=4_000_000_000, ge=1,
        description="Largest work per request: output elements x kernel taps (multiply-adds), "
        "checked before computing (422 with code `limit` beyond).",
    )
    max_json_elements: int = Field(
        default=4_000_000, ge=1,
        description="Most numbers in a JSON request or a JSON answer; larger results are "
        "available as PNG (`/render`) or raw float32 (`?format=npy`).",
    )
    max_frames_per_page: int = Field(
        default=1000, ge=1,
        description="Most sliding-window frames in one `/api/frames` answer; a larger `limit` "
        "is capped to it.",
    )
    max_concurrency: int = Field(
        default_factory=_default_concurrency, ge=1,
        description="Requests computing at the same time (threadpool limit for CPU work); "
        "default: the number of CPUs, at most 4.",
    )
    png_compress_level: int = Field(
        default=1, ge=0, le=9,
        description="zlib level of rendered PNGs: 1 is fast and a little larger, 9 is slow.",
    )
    max_model_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024,
        description="Largest accepted model file (`.keras` or `.h5`) in bytes (413 beyond).",
    )
    max_model_params: int = Field(
        default=50_000_000, ge=1,
        description="Most weights an uploaded model may have, counted from its config before "
        "any weight is read (413 beyond).",
    )
    max_model_expanded_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1024,
        description="Most bytes a model file may expand to (a `.keras` zip's members, the "
        "weights read): a zip bomb is refused before it is inflated (413 beyond).",
    )
    max_model_members: int = Field(
        default=64, ge=3,
        description="Most members a `.keras` zip may hold (413 beyond).",
    )
    model_reader_memory_bytes: int = Field(
        default=1024 * MB, ge=32 * MB,
        description="Memory the reading of one model file's HDF5 data may take, in bytes: it "
        "runs in a child process whose address space is capped there (a file that needs more is "
        "refused with 422; at most two such processes per server process).",
    )
    model_reader_seconds: float = Field(
        default=30, gt=0,
        description="Time the reading of one model file's HDF5 data may take, in seconds: its "
        "child process is killed then and the file refused with 422 (an upload that finds both "
        "readers busy for that long gets 503).",
    )
    max_training_jobs: int = Field(
        default=2, ge=1, le=64,
        description="Training runs of the digit network going on at once (one per page); "
        "a further start gets 503.",
    )
    host: str = Field(default="127.0.0.1", description="Interface `svertka serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `svertka serve` listens on.")
    workers: int = Field(
        default=1, ge=1,
        description="Worker processes `svertka serve` starts (uvicorn's process manager); they "
        "share the store, and each keeps its own decode cache.",
    )
    queue_depth: int = Field(
        default=64, ge=0,
        description="Requests that may wait for a CPU slot (beyond the `max_concurrency` "
        "computing); one more is answered 503 with `Retry-After` instead of queueing.",
    )
    s3_url: str | None = Field(
        default=None,
        description="Keep uploads in an S3-compatible object store instead of the data "
        "directory: `s3://bucket/prefix` (credentials and region from the usual `AWS_*` "
        "variables).",
    )
    s3_endpoint: str | None = Field(
        default=None,
        description="Endpoint of a non-AWS object store (SeaweedFS, Ceph, MinIO), e.g. "
        "`http://seaweedfs:8333`; unset for AWS S3.",
    )
    cors_origins: str = Field(
        default="",
        description="Comma-separated origins allowed to call the API from other sites' pages "
        "(CORS); empty: none, only the app's own pages.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis server for live rooms (`redis://host:6379/0`): rooms' state, answers "
        "and broadcasts go through it, so several workers or machines share the rooms; unset, "
        "rooms live in the memory of one process.",
    )
    max_rooms: int = Field(
        default=1000, ge=1,
        description="Most live rooms open at once (`POST /api/rooms` answers 429 beyond).",
    )
    max_room_members: int = Field(
        default=200, ge=1,
        description="Most students connected to one live room at once (a further one is closed "
        "with WebSocket code 4429).",
    )
    room_ttl_seconds: float = Field(
        default=4 * 3600, gt=0,
        description="A live room expires this many seconds after its last activity (a join, a "
        "state, a poll or an answer).",
    )
    room_messages_per_second: float = Field(
        default=20, gt=0,
        description="Messages one WebSocket connection may send to a room per second, on "
        "average (bursts of twice as many); beyond, messages are refused with an error.",
    )

    @property
    def images_dir(self) -> Path:
        """Where the image store keeps its files."""
        return self.data_dir / "images"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once (a FastAPI dependency and the CLI's default)."""
    return Settings()
