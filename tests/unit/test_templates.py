"""Every template a program names exists and renders with a sample context (StrictUndefined)."""

import datetime as dt

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from proactive.certificate_render import DEFAULT_FONT, CertificateView, Font, Renderer
from proactive.programs import load_catalog
from proactive.settings import ROOT

SAMPLE = {
    "addressee": "王芳",
    "subject": "您",
    "worker_name": "李芳",
    "visit_date": "11月27日",
    "half_day": "上午",
    "code": "4821",
    "site_phone": "0571-87654321",
}
CERTIFICATE = CertificateView(
    certificate_no="330108-2026-LN-000001",
    title="老年人优待证",
    holder="𠮷祥",
    sex="男",
    birth_date=dt.date(1966, 11, 25),
    masked_id="330108********0015",
    address="浙江省杭州市滨江区西兴街道江汉路1785号",
    issued_on=dt.date(2026, 11, 25),
    issuing_office="杭州市滨江区民政局",
    payload="PC1:SAMPLE",
)


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
    assert len(named) == 4
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
