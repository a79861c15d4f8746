"""Reading the QR back from a file someone hands in: anything but a certificate, however large,
compressed or malformed, is simply unreadable (the time is measured in bench/verify_bench.py)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pypdf
import pytest
from PIL import Image

from proactive.certificates import keys, reading, signing
from proactive.certificates.issued import payload_of, verify
from proactive.certificates.render import DEFAULT_FONT, Font, Renderer, qr_data_uri
from proactive.settings import ROOT
from proactive.testing.hostile_pdfs import png_claiming, write_hostile_files
from tests.unit.certificates.test_render import PAYLOAD, TEMPLATE, VIEW

KINDS = [
    "empty",
    "truncated",
    "not_a_pdf",
    "png_named_pdf",
    "garbage_after_header",
    "content_bomb",
    "image_bomb",
    "many_images",
    "many_pages",
    "oversized",
]


@pytest.fixture(scope="module")
def genuine() -> bytes:
    return Renderer(ROOT / "templates", Font.load(DEFAULT_FONT)).render(TEMPLATE, VIEW)


@pytest.fixture(scope="module")
def hostile(genuine: bytes, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_hostile_files(tmp_path_factory.mktemp("hostile"), genuine)


def test_a_genuine_certificate_still_reads(genuine: bytes, tmp_path: Path) -> None:
    path = tmp_path / "genuine.pdf"
    path.write_bytes(genuine)
    assert reading.payload_of_file(path) == PAYLOAD


def test_a_certificate_whose_qr_end_marker_is_split_by_a_line_break_reads(genuine: bytes) -> None:
    """ReportLab wraps an inline image's ASCII85 data every 64 characters, so about one
    certificate in a hundred ends its QR image with `~` and `>` on two lines (valid PDF: ASCII85
    ignores white space); pypdf 7.1 then fails with "Unexpected end of stream"."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(genuine)))
    page = writer.pages[0]
    contents = page.get_contents()
    assert contents is not None and contents.get_data().count(b"~>") == 1
    contents.set_data(contents.get_data().replace(b"~>", b"~\n>"))
    page.replace_contents(contents)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(pypdf.errors.PdfReadError):  # what pypdf alone does with it
        list(pypdf.PdfReader(io.BytesIO(out.getvalue())).pages[0].images)
    assert reading.read_payload(out.getvalue()) == PAYLOAD


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_file_has_no_payload(kind: str, hostile: dict[str, Path]) -> None:
    assert reading.payload_of_file(hostile[kind]) is None


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_file_verifies_as_unreadable(
    kind: str, hostile: dict[str, Path], tmp_path: Path
) -> None:
    keys.init(tmp_path / "keys")
    result = verify(str(hostile[kind]), keys.public_keys(tmp_path / "keys"), None)
    assert result.code == signing.UNREADABLE


def test_oversized_file_is_not_read(
    hostile: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_reading(_path: Path) -> bytes:
        raise AssertionError("read a file above the size limit")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    assert reading.payload_of_file(hostile["oversized"]) is None


def test_any_existing_file_is_read_as_a_file_whatever_its_name(
    genuine: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "scan.PDF.download"
    path.write_bytes(genuine)
    assert payload_of(str(path)) == PAYLOAD
    assert payload_of(PAYLOAD) == PAYLOAD  # not a file: the QR text itself


# Uploads to the web app's /verify: told which limit they break, in Chinese.
OVER_LIMIT = {  # hostile file: what its OverLimit says
    "content_bomb": "压缩炸弹",
    "image_bomb": "压缩炸弹",
    "many_images": "图片过多",
    "many_pages": "页数过多",
}


@pytest.mark.parametrize("kind", OVER_LIMIT)
def test_an_upload_over_a_limit_says_which(kind: str, hostile: dict[str, Path]) -> None:
    with pytest.raises(reading.OverLimit) as refused:
        reading.read_upload(hostile[kind].read_bytes())
    assert OVER_LIMIT[kind] in refused.value.zh


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"%PDF-1.7\n" + b"0" * reading.MAX_FILE_BYTES, "PDF 文件过大"),
        (b"\xff\xd8" + b"0" * reading.MAX_PHOTO_BYTES, "图片文件过大"),
        (png_claiming(6_000, 6_000), "图片像素过多（6000×6000，最多 2500 万像素）"),
        (png_claiming(100_000, 100_000), "图片像素过多"),
    ],
    ids=["pdf_over_2mb", "photo_over_5mb", "photo_36_megapixels", "photo_claiming_1e10_pixels"],
)
def test_an_upload_too_large_is_refused_before_it_is_decoded(data: bytes, said: str) -> None:
    with pytest.raises(reading.OverLimit) as refused:
        reading.read_upload(data)
    assert said in refused.value.zh


def test_a_phone_photo_of_the_qr_code_reads(genuine: bytes) -> None:
    """12 megapixels, the QR a small part of it: decoded at a reduced scale, still read."""
    qr = Image.open(io.BytesIO(base64.b64decode(qr_data_uri(PAYLOAD).split(",", 1)[1])))
    photo = Image.new("L", (4_000, 3_000), 200)
    photo.paste(qr.convert("L").resize((qr.width * 3, qr.height * 3)), (1_500, 1_000))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=85)
    assert reading.read_upload(out.getvalue()) == PAYLOAD
    assert reading.read_upload(genuine) == PAYLOAD
    assert reading.read_upload(b"%PDF-1.4 junk") is None
