"""`headatlas site build` calls the library once and says where the site is and how long it took."""

from pathlib import Path

import pytest

from sitegen.build import SiteBuild, SiteBuildError
from tests.utils.cli import run


def test_site_build_prints_the_output_folder_and_the_build_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def build_site(settings, *, output, progress):  # type: ignore[no-untyped-def]
        calls.append((settings.database_url, output))
        progress("drawing figures")
        return SiteBuild(output=output, docs_dir=tmp_path / "docs", pages=239, figures=27, seconds=12.34)

    monkeypatch.setattr("sitegen.build.build_site", build_site)
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    result = run(url, "site", "build", "--output", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert calls == [(url, tmp_path / "out")]
    assert f"into {tmp_path / 'out'}" in result.output and "12.3 s" in result.output
    assert "drawing figures …" in result.output  # the progress, on stderr


def test_a_refused_build_is_a_one_line_error_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def build_site(settings, *, output, progress):  # type: ignore[no-untyped-def]
        raise SiteBuildError("mkdocs refused the site (1 problems):\n- a link to 'nowhere.md'")

    monkeypatch.setattr("sitegen.build.build_site", build_site)
    result = run(f"sqlite:///{tmp_path / 'catalog.db'}", "site", "build")
    assert result.exit_code == 1
    assert "Error: mkdocs refused the site" in result.output and "nowhere.md" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_site_build_has_help_with_an_example() -> None:
    result = run("sqlite://", "site", "build", "--help")
    assert "Example:" in result.output and "--output" in result.output
