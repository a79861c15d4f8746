"""The QR payload read back from a certificate file someone hands in, within limits: a
certificate is one page of about 32 KB with one small QR image, so anything much larger, longer
or more compressed is not one and is never decoded in full. Whatever cannot be read gives None
(`certificates verify` then says `unreadable`)."""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pypdf
import zxingcpp
from PIL import Image
from pypdf.generic import NameObject

MAX_FILE_BYTES = 2_000_000  # a certificate is ~32 KB
MAX_PAGES = 4
MAX_IMAGES = 8  # on the first page
MAX_IMAGE_PIXELS = 4_000_000  # the QR is 260 × 260
MAX_DECODED_BYTES = 16_000_000  # any one stream, inflated
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
    if len(pdf) > MAX_FILE_BYTES:
        return None
    try:
        with _limits():
            return _first_qr(pypdf.PdfReader(io.BytesIO(pdf)))
    except Exception:  # hostile input: whatever pypdf, Pillow or zxing raise, it is unreadable
        return None


def _first_qr(reader: pypdf.PdfReader) -> str | None:
    if not 0 < len(reader.pages) <= MAX_PAGES:
        return None
    page = reader.pages[0]
    _join_split_end_markers(page)
    images = page.images
    if len(images) > MAX_IMAGES:
        return None
    for found in images:
        if found.image is None:
            continue
        width, height = found.image.size
        if width * height > MAX_IMAGE_PIXELS:
            return None
        codes = zxingcpp.read_barcodes(found.image, formats=QR_ONLY)
        if codes:
            return str(codes[0].text)
    return None


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
