"""Bytes <-> arrays: decoding uploads (Pillow, EXIF, limits), rendering maps, encoding PNG/npy."""
