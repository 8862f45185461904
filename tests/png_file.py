"""png_file.py: the small PNG writer and size reader the CLI tests share (8-bit RGB, no filter),
so a test can make its own pictures without an imaging library."""
import struct
import zlib


def write_png(path, w, h, rgb):
    """Writes rgb (w * h * 3 bytes, rows top to bottom) as an 8-bit RGB PNG."""
    raw = b"".join(b"\x00" + bytes(rgb[y * w * 3:(y + 1) * w * 3]) for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def png_size(path):
    """(width, height) from a PNG's header; ValueError naming the file when it is no PNG."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(path + " is not a PNG")
    return struct.unpack(">II", head[16:24])
