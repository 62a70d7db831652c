"""Write the crafted uploads that once made the API answer 500 or use too much memory.

python -m scripts.make_crafted_fixtures      # -> tests/fixtures/crafted (output is committed)

Each file is built from the real sample image or from first principles (PNG chunks, EXIF IFDs);
`CRAFTED` names each with the status the API must answer.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "crafted"
SAMPLE = ROOT / "tests" / "fixtures" / "samples" / "ISIC_0000012.jpg"

# file name -> (HTTP status the API must answer, what the file is)
CRAFTED: dict[str, tuple[int, str]] = {
    "truncated_ihdr.png": (422, "IHDR chunk of 5 bytes (13 needed)"),
    "truncated_chrm.png": (422, "cHRM chunk of 8 bytes (32 needed)"),
    "truncated_phys.png": (422, "pHYs chunk of 4 bytes (9 needed)"),
    "truncated_actl.png": (422, "acTL chunk of 4 bytes (8 needed)"),
    "truncated_fctl.png": (422, "fcTL chunk of 10 bytes (26 needed)"),
    "ztxt_bomb.png": (422, "zTXt chunk that inflates past Pillow's 1 MB text limit"),
    "iccp_bomb.png": (422, "iCCP profile that inflates past Pillow's 1 MB limit"),
    "many_text_chunks.png": (422, "70 zTXt chunks of 1 MB each, past the 64 MB text budget"),
    "exif_short_as_ascii.jpg": (200, "EXIF orientation 6 and a SHORT tag stored as ASCII"),
    "phone.mpo": (200, "a phone's MPO: a JPEG picture with a second (preview) frame"),
    "header_6000x6666.jpg": (422, "1,300 bytes of a JPEG whose header says 6000x6666"),
    "grey_6400x6250.png": (200, "all-black greyscale PNG of 40 M pixels, just inside the cap"),
    "grey16_6400x6250.png": (200, "16-bit greyscale PNG of 40 M pixels"),
    "rgb_6400x6250.png": (200, "RGB PNG of 40 M pixels: the largest raster the API accepts"),
}


def chunk(kind: bytes, data: bytes, length: int | None = None) -> bytes:
    """A PNG chunk; `length` overrides the declared length (the data is cut to it)."""
    if length is not None:
        data = data[:length]
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def small_image() -> Image.Image:
    return Image.open(SAMPLE).convert("RGB").resize((64, 48))


def png_with(extra: bytes, image: Image.Image | None = None) -> bytes:
    """A valid PNG of `image` with `extra` chunks inserted right after IHDR."""
    buffer = io.BytesIO()
    (image or small_image()).save(buffer, format="PNG")
    data = buffer.getvalue()
    ihdr_end = 8 + 8 + 13 + 4
    return data[:ihdr_end] + extra + data[ihdr_end:]


def truncated_ihdr() -> bytes:
    data = png_with(b"")
    header = data[16:29]
    return data[:8] + chunk(b"IHDR", header, length=5) + data[33:]


def inflating(size: int) -> bytes:
    return zlib.compress(b"\0" * size, 9)


def flat_png(width: int, height: int, bit_depth: int, rgb: bool = False) -> bytes:
    """A valid all-black PNG, row by row: a few dozen KB for tens of megapixels."""
    compressor = zlib.compressobj(9)
    channels, colour_type = (3, 2) if rgb else (1, 0)
    row = b"\0" * (width * channels * bit_depth // 8 + 1)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def exif_short_as_ascii() -> bytes:
    """EXIF IFD0: Orientation = 6 (SHORT) and ResolutionUnit (a SHORT tag) written as ASCII."""
    entries = [
        struct.pack("<HHII", 0x0112, 3, 1, 6),  # Orientation, SHORT, 1, value 6
        struct.pack("<HHI4s", 0x0128, 2, 4, b"in\0\0"),  # ResolutionUnit as ASCII
    ]
    ifd = struct.pack("<H", len(entries)) + b"".join(entries) + struct.pack("<I", 0)
    exif = b"Exif\0\0" + b"II*\0" + struct.pack("<I", 8) + ifd
    buffer = io.BytesIO()
    Image.open(SAMPLE).convert("RGB").resize((256, 192)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def phone_mpo() -> bytes:
    picture = Image.open(SAMPLE).convert("RGB").resize((320, 240))
    buffer = io.BytesIO()
    picture.save(buffer, "MPO", save_all=True, append_images=[picture.resize((160, 120))])
    return buffer.getvalue()


def header_only_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (6000, 6666), (120, 80, 60)).save(buffer, "JPEG", quality=10)
    return buffer.getvalue()[:1300]


def build() -> dict[str, bytes]:
    text = b"Comment\0\0" + inflating(2 * 2**20)
    profile = b"profile\0\0" + inflating(2 * 2**20)
    many = b"".join(chunk(b"zTXt", b"k%d\0\0" % i + inflating(2**20 - 1024)) for i in range(70))
    return {
        "truncated_ihdr.png": truncated_ihdr(),
        "truncated_chrm.png": png_with(chunk(b"cHRM", bytes(32), length=8)),
        "truncated_phys.png": png_with(chunk(b"pHYs", bytes(9), length=4)),
        "truncated_actl.png": png_with(chunk(b"acTL", bytes(8), length=4)),
        "truncated_fctl.png": png_with(chunk(b"fcTL", bytes(26), length=10)),
        "ztxt_bomb.png": png_with(chunk(b"zTXt", text)),
        "iccp_bomb.png": png_with(chunk(b"iCCP", profile)),
        "many_text_chunks.png": png_with(many),
        "exif_short_as_ascii.jpg": exif_short_as_ascii(),
        "phone.mpo": phone_mpo(),
        "header_6000x6666.jpg": header_only_jpeg(),
        "grey_6400x6250.png": flat_png(6400, 6250, 8),
        "grey16_6400x6250.png": flat_png(6400, 6250, 16),
        "rgb_6400x6250.png": flat_png(6400, 6250, 8, rgb=True),
    }


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in build().items():
        (OUT / name).write_bytes(data)
        print(f"{name}: {len(data):,} bytes ({CRAFTED[name][1]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
