"""Hostile files for `certificates verify`: empty, truncated, not a PDF, oversized, a
decompression bomb (in the page's content and in an image), too many pages, too many images;
and photos too large to decode (the web app's /verify takes photos of the QR code too).
Shared by the tests and the verify benchmark."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

_CHUNK = b"\0" * (1 << 20)


def zeros_deflated(megabytes: int) -> bytes:
    """`megabytes` MiB of zeros as a zlib stream (about a thousandth of that), made fast: after
    a full flush the deflater starts afresh, so every further MiB deflates to the same bytes;
    the Adler-32 of n zeros is (n mod 65521) << 16 | 1."""
    packer = zlib.compressobj(9)
    first = packer.compress(_CHUNK) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(_CHUNK) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.flush()[:-4]
    checksum = ((megabytes * len(_CHUNK)) % 65521) << 16 | 1
    return first + again * (megabytes - 1) + end + checksum.to_bytes(4, "big")


def pdf_from_objects(objects: Iterable[bytes]) -> bytes:
    """A well-formed PDF of numbered objects (1 is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(offsets) + 1,
        xref,
    )
    return bytes(out)


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n" % (dictionary, len(data)) + data + b"\nendstream"


def _page(resources: bytes, content: bytes) -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources %s /Contents 4 0 R >>"
        % resources,
        content,
    ]


def content_bomb(megabytes: int = 200) -> bytes:
    """One page whose content stream inflates to `megabytes` MiB."""
    return pdf_from_objects(
        _page(b"<< >>", _stream(b"/Filter /FlateDecode", zeros_deflated(megabytes)))
    )


def image_bomb(side: int = 16_000) -> bytes:
    """One page showing a grey image of side × side pixels (256 MB at 16,000), deflated."""
    pixels = zeros_deflated(side * side >> 20)
    image = _stream(
        b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode" % (side, side),
        pixels,
    )
    draw = _stream(b"", b"q 100 0 0 100 0 0 cm /Im0 Do Q")
    return pdf_from_objects([*_page(b"<< /XObject << /Im0 5 0 R >> >>", draw), image])


def many_images(count: int = 200) -> bytes:
    """One page showing `count` tiny images."""
    names = b" ".join(b"/Im%d %d 0 R" % (i, 5 + i) for i in range(count))
    draw = _stream(b"", b" ".join(b"q 1 0 0 1 0 0 cm /Im%d Do Q" % i for i in range(count)))
    tiny = _stream(
        b"/Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8",
        b"\0",
    )
    return pdf_from_objects([*_page(b"<< /XObject << %s >> >>" % names, draw), *[tiny] * count])


def many_pages(count: int = 5_000) -> bytes:
    """`count` blank pages."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(count))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"
    return pdf_from_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
            *[page] * count,
        ]
    )


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height grey pixels (its data is a few zeros)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1_000))
        + chunk(b"IEND", b"")
    )


def write_hostile_files(directory: Path, genuine: bytes) -> dict[str, Path]:
    """Every kind of hostile file in `directory`, by name; `genuine` is a real certificate PDF
    (for the truncated one). The oversized file is sparse: 150 MB on the disk's books only."""
    directory.mkdir(parents=True, exist_ok=True)
    makers: dict[str, Callable[[], bytes]] = {
        "empty": lambda: b"",
        "truncated": lambda: genuine[: len(genuine) // 2],
        "not_a_pdf": lambda: "证书 certificate\n".encode() * 100,
        "png_named_pdf": lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
        "garbage_after_header": lambda: b"%PDF-1.7\n" + bytes(range(256)) * 64,
        "content_bomb": content_bomb,
        "image_bomb": image_bomb,
        "many_images": many_images,
        "many_pages": many_pages,
    }
    paths = {}
    for name, make in makers.items():
        paths[name] = directory / f"{name}.pdf"
        paths[name].write_bytes(make())
    oversized = directory / "oversized.pdf"
    with oversized.open("wb") as handle:
        handle.write(genuine)
        handle.truncate(150 * 1024 * 1024)
    paths["oversized"] = oversized
    return paths
