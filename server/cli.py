"""The ``svertka`` command: serve the app, or apply a kernel to a photo from the shell."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__

DESCRIPTION = """\
Svertka: convolutional-network arithmetic, served and visualized.

  svertka serve                      start the web app (http://127.0.0.1:8000)
  svertka serve --workers 4          the same with four worker processes
  svertka apply photo.jpg --kernel sobel_x -o edges.png
  svertka kernels                    list the kernel presets
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="svertka",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"svertka {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="start the web app and the REST API")
    serve.add_argument("--host", default=None, help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port to listen on (default 8000)")
    serve.add_argument("--workers", type=int, default=None,
                       help="worker processes sharing the store (default 1, or SVERTKA_WORKERS)")
    serve.add_argument("--reload", action="store_true", help="restart on code changes")

    apply = commands.add_parser("apply", help="convolve an image with a kernel preset")
    apply.add_argument("image", type=Path, help="PNG, JPEG, WebP, GIF, BMP or TIFF file")
    apply.add_argument("--kernel", default="sobel_x", help="preset name (see `svertka kernels`)")
    apply.add_argument("--color", choices=("rgb", "gray"), default="rgb")
    apply.add_argument("--padding", default="same", help='"valid", "same", "full" or an int')
    apply.add_argument("--stride", type=int, default=1)
    apply.add_argument("--dilation", type=int, default=1)
    apply.add_argument(
        "--display", choices=("clip", "stretch", "abs", "signed"), default="stretch",
        help="how values become pixels",
    )
    apply.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")

    commands.add_parser("kernels", help="list the kernel presets")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m server``."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "apply":
        return _apply(args)
    if args.command == "kernels":
        return _kernels()
    parser.print_help()
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .config import Settings
    from .web.app import create_app

    settings = Settings()
    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    if workers < 1:
        print(f"svertka serve: --workers must be >= 1, got {workers}", file=sys.stderr)
        return 2
    if args.reload or workers > 1:
        # uvicorn's own process manager: each worker imports and builds the app from the
        # environment (SVERTKA_*); they share the store, everything else is per process
        uvicorn.run("server.web.app:create_app", factory=True, host=host, port=port,
                    reload=args.reload, workers=None if args.reload else workers)
    else:
        uvicorn.run(create_app(settings), host=host, port=port)
    return 0


def _kernels() -> int:
    from .core.kernels import PRESETS

    width = max(len(name) for name in PRESETS)
    for name, preset in PRESETS.items():
        rows, cols = preset.kernel.shape
        print(f"{name:<{width}}  {rows}x{cols}  {preset.description_en}")
    return 0


def _apply(args: argparse.Namespace) -> int:
    import numpy as np

    from .core import CoreError, conv
    from .core.kernels import PRESETS
    from .imaging.decode import ImageError, decode_image, to_array
    from .imaging.encode import encode_png
    from .imaging.render import render_map

    if args.kernel not in PRESETS:
        names = ", ".join(PRESETS)
        print(f"unknown kernel {args.kernel!r}; choose one of: {names}", file=sys.stderr)
        return 2
    padding: str | int = int(args.padding) if args.padding.isdigit() else args.padding
    try:
        image = decode_image(args.image.read_bytes())
        x = to_array(image, args.color)
        kernel = PRESETS[args.kernel].kernel.astype(np.float32)
        # the same 2D kernel on each colour channel separately keeps the result in colour
        w = kernel[None, None] if x.ndim == 2 else np.repeat(kernel[None, None], x.shape[0], 0)
        groups = 1 if x.ndim == 2 else x.shape[0]
        out = conv(x, w, padding=padding, stride=args.stride, dilation=args.dilation, groups=groups)
        pixels, _ = render_map(out, args.display)
    except (CoreError, ImageError, OSError) as error:
        print(f"svertka apply: {error}", file=sys.stderr)
        return 2
    args.output.write_bytes(encode_png(pixels))
    print(f"wrote {args.output} ({out.shape[-1]}x{out.shape[-2]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
