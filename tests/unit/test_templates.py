"""Every template a program names exists and renders with a sample context (StrictUndefined)."""

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from proactive.certificates.render import DEFAULT_FONT, Font, Renderer
from proactive.programs.catalog import load_catalog
from proactive.settings import ROOT
from tests.unit.certificates.test_render import VIEW

SAMPLE = {
    "addressee": "王芳",
    "subject": "您",
    "worker_name": "李芳",
    "visit_date": "11月27日",
    "half_day": "上午",
    "code": "4821",
    "site_phone": "0571-87654321",
}
CERTIFICATE = VIEW  # the renderer tests' sample


def test_program_templates_exist_and_render() -> None:
    environment = Environment(
        loader=FileSystemLoader(ROOT / "templates"), undefined=StrictUndefined
    )
    named = [
        name
        for program in load_catalog(ROOT / "jobs").values()
        for name in (
            *program.sms_templates,
            *([program.certificate_template] if program.certificate_template else []),
        )
    ]
    assert len(named) == 7
    renderer = Renderer(ROOT / "templates", Font.load(DEFAULT_FONT))
    for name in named:
        if name.startswith("certificates/"):
            assert renderer.render(name, CERTIFICATE).startswith(b"%PDF")
            continue
        rendered = environment.get_template(name).render(SAMPLE)
        assert "{{" not in rendered
        if name.startswith("sms/"):
            assert rendered.startswith("【滨江区民政】") and "http" not in rendered
            assert "4821" in rendered


# The longest values a message can carry: a four-character name with two characters outside
# the BMP (each counts 2), the family wording, a long worker name, a landline with extension.
WORST = {
    **SAMPLE,
    "addressee": "𠮷𠮷欧阳",
    "subject": "您家人𠮷某某",
    "worker_name": "欧阳𠮷𠮷",
    "visit_date": "12月31日（周四）",
    "site_phone": "0571-87654321-8888",
}


def test_sms_templates_fit_two_segments_and_carry_no_url_or_id() -> None:
    from proactive.sms.outbox import Composer
    from proactive.sms.wording import MAX_SEGMENTS, segments

    composer = Composer.from_directory(str(ROOT / "templates"), "0571-12345", "21:00-08:00")
    names = [n for p in load_catalog(ROOT / "jobs").values() for n in p.sms_templates]
    for name in names:
        body = composer.render(name, WORST)
        assert segments(body) <= MAX_SEGMENTS, (name, segments(body))
        assert "http" not in body and "www" not in body
        assert body.startswith("【滨江区民政】") and "4821" in body
