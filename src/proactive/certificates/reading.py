"""The QR payload read back from a certificate file someone hands in, within limits: a
certificate is one page of about 32 KB with one small QR image, so anything much larger, longer
or more compressed is not one and is never decoded in full. Whatever cannot be read gives None
(`certificates verify` then says `unreadable`). An upload to the web app's /verify is told
which limit it broke instead (`OverLimit`, in Chinese), and a photo is held to a pixel limit
before it is decoded."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pypdf
import zxingcpp
from PIL import Image
from pypdf.errors import LimitReachedError
from pypdf.generic import NameObject

from proactive.errors import ProactiveError

MAX_FILE_BYTES = 2_000_000  # a certificate is ~32 KB
MAX_PAGES = 4
MAX_IMAGES = 8  # on the first page
MAX_IMAGE_PIXELS = 4_000_000  # the QR is 260 × 260
MAX_DECODED_BYTES = 16_000_000  # any one stream, inflated
MAX_PHOTO_BYTES = 5 * 1024 * 1024  # a phone's photo of the QR code
MAX_PHOTO_PIXELS = 25_000_000  # a 24-megapixel camera's photo; checked before decoding
PHOTO_SIDE = 2_000  # photos are scaled down to this before the QR is looked for
QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
SPLIT_A85_END = re.compile(rb"~\s+>")  # an ASCII85 end marker with white space inside

_PDF_LIMITS = {
    name: MAX_DECODED_BYTES
    for name in (
        "maximum_declared_stream_length",
        "array_based_stream_maximum_output_length",
        "jbig2_maximum_output_length",
        "lzw_maximum_output_length",
        "run_length_maximum_output_length",
        "zlib_maximum_output_length",
        "brotli_maximum_output_length",
        "image_maximum_buffer_size",
        "stream_decoding_work_maximum_length",
    )
} | {"page_tree_maximum_entries": 1_000, "page_tree_maximum_page_entries": 10_000}


class OverLimit(ProactiveError):
    """The file is beyond what a certificate or a photo of one can be"""

    def __init__(self, zh: str) -> None:
        super().__init__(zh)
        self.zh = zh


def payload_of_file(path: Path) -> str | None:
    """The payload of the QR code in a certificate file, or None; files above MAX_FILE_BYTES
    are not even opened."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        return read_payload(path.read_bytes())
    except OSError:
        return None


def read_payload(pdf: bytes) -> str | None:
    """The text of the first QR code found in the images of a PDF's first page, if any."""
    try:
        return read_upload(pdf)
    except OverLimit:
        return None


def read_upload(data: bytes) -> str | None:
    """The QR text of an uploaded certificate PDF or photo (PNG, JPEG, ...), or None when none
    can be read; OverLimit, saying which limit in Chinese, when the file breaks one."""
    if data.startswith(b"%PDF"):
        if len(data) > MAX_FILE_BYTES:
            raise OverLimit(f"PDF 文件过大（证书文件不超过 {MAX_FILE_BYTES // 1_000_000} MB）")
        return _guarded(lambda: _first_qr(pypdf.PdfReader(io.BytesIO(data))), _limits)
    if len(data) > MAX_PHOTO_BYTES:
        raise OverLimit(f"图片文件过大（不超过 {MAX_PHOTO_BYTES >> 20} MB）")
    return _guarded(lambda: _photo_qr(data), contextlib.nullcontext)


def _guarded(
    read: Callable[[], str | None], limits: Callable[[], AbstractContextManager[None]]
) -> str | None:
    """`read` within `limits`: a decompression bomb is OverLimit, any other failure None."""
    try:
        with limits():
            return read()
    except OverLimit:
        raise
    except LimitReachedError:
        raise OverLimit("文件超出读取限制（页数过多或内容解压后过大，疑似压缩炸弹）") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise OverLimit("图片像素过多（疑似压缩炸弹）") from None
    except Exception:  # hostile input: whatever pypdf, Pillow or zxing raise, it is unreadable
        return None


def _first_qr(reader: pypdf.PdfReader) -> str | None:
    if len(reader.pages) > MAX_PAGES:
        raise OverLimit(f"页数过多（证书只有 1 页，最多读取 {MAX_PAGES} 页的文件）")
    if not reader.pages:
        return None
    page = reader.pages[0]
    _join_split_end_markers(page)
    images = page.images
    if len(images) > MAX_IMAGES:
        raise OverLimit(f"首页图片过多（最多 {MAX_IMAGES} 张）")
    for found in images:
        if found.image is None:
            continue
        _check_pixels(found.image, MAX_IMAGE_PIXELS)
        codes = zxingcpp.read_barcodes(found.image, formats=QR_ONLY)
        if codes:
            return str(codes[0].text)
    return None


def _photo_qr(data: bytes) -> str | None:
    """The first QR code in a photo: its size is checked from the header, before a pixel is
    decoded (so Pillow's global bomb limit, which the PDF path lowers, is not needed); JPEGs are
    decoded at a reduced scale, and every photo is looked at PHOTO_SIDE."""
    with Image.open(io.BytesIO(data)) as image:
        _check_pixels(image, MAX_PHOTO_PIXELS)
        image.draft("L", (PHOTO_SIDE, PHOTO_SIDE))  # JPEG only: decode at 1/2, 1/4 or 1/8
        grey = image.convert("L")
    grey.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
    codes = zxingcpp.read_barcodes(grey, formats=QR_ONLY)
    return str(codes[0].text) if codes else None


def _check_pixels(image: Image.Image, limit: int) -> None:
    width, height = image.size
    if width * height > limit:
        raise OverLimit(f"图片像素过多（{width}×{height}，最多 {limit // 10_000} 万像素）")


def _join_split_end_markers(page: pypdf.PageObject) -> None:
    """ReportLab writes a certificate's QR as an inline image in ASCII85, wrapped every 64
    characters, so about one certificate in a hundred has its end marker split as `~`, line
    break, `>`; that is valid PDF (ASCII85 skips white space), but pypdf 7.1's inline-image
    parser then fails. The page's content, as read here (never written back), gets it joined."""
    contents = page.get_contents()
    if contents is None:
        return
    data = contents.get_data()
    if SPLIT_A85_END.search(data):
        contents.set_data(SPLIT_A85_END.sub(b"~>", data))
        page[NameObject("/Contents")] = contents


@contextmanager
def _limits() -> Iterator[None]:
    """pypdf's decoding limits, and Pillow's decompression-bomb guard at our image size; pypdf's
    warnings about the broken file silenced."""
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    pypdf_log = logging.getLogger("pypdf")
    pypdf_log.disabled = True  # its complaints about a broken file are not ours to print
    try:
        limited = pypdf.get_configuration().with_overwrites(**_PDF_LIMITS)
        with pypdf.apply_configuration(limited), warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous
        pypdf_log.disabled = False
