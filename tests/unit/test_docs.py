"""The README and docs stay true to the code."""

from pathlib import Path

from proactive.registry import reasons
from proactive.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_quotes_the_ci_test_command() -> None:
    command = (ROOT / ".ci" / "test-command").read_text(encoding="utf-8").strip()
    assert f"```sh\n{command}\n```" in README
    assert "```sh\npip install -e . && proactive demo\n```" in README
    assert 'bash -c "$(cat .ci/test-command)"' in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    for setting in SETTINGS:
        assert f"| `{setting.env}` |" in README, setting.env


def test_every_reason_code_is_documented() -> None:
    doc = (ROOT / "docs" / "extract-format.md").read_text(encoding="utf-8")
    codes = [r.code for r in vars(reasons).values() if isinstance(r, reasons.Reason)]
    assert codes
    for code in codes:
        assert f"| `{code}` |" in doc, code


def test_benchmark_figures_are_filled_in() -> None:
    assert "BENCHMARK_TABLE" not in README
    assert "| sqlite | ingest |" in README


def test_the_layout_names_every_package_and_module() -> None:
    layout = README[README.index("## Layout") : README.index("## Privacy")]
    package = ROOT / "src" / "proactive"
    for folder in sorted(p for p in package.iterdir() if (p / "__init__.py").exists()):
        assert f"**`{folder.name}/`**" in layout, folder.name
        for module in folder.glob("*.py"):
            if module.stem != "__init__":
                assert f"`{module.stem}`" in layout, f"{folder.name}/{module.name}"
    for module in package.glob("*.py"):
        if module.stem != "__init__":
            assert f"`{module.stem}`" in layout, module.name
