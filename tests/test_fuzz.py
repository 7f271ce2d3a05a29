"""The fuzz harness: exports of each kind, structurally valid and cut from the real
samples, with one defect injected (tests/fuzz_exports.py). The property: ``kompas import``
either succeeds or exits 1 with one line naming the file; on failure the store is exactly
as it was; never a traceback (the in-process runner re-raises any unexpected error).

The default run is small (``FUZZ_EXAMPLES``, 8 per kind) to keep ``make test`` quick;
``make fuzz`` runs 5,000 per kind before a release.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from conftest import MASTODON_ARCHIVE, Kompas
from fuzz_exports import EXPORTS, write
from test_malformed import snapshot

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace that already holds data (the Mastodon sample)."""
    home = tmp_path_factory.mktemp("fuzz") / "home"
    assert Kompas(home)("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    return home


@pytest.mark.parametrize("kind", sorted(EXPORTS))
def test_import_succeeds_or_refuses_cleanly(template: Path, kind: str) -> None:
    strategy, suffix = EXPORTS[kind]
    before = snapshot(template)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=EXAMPLES <= 20,  # the quick run is the same each time
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(data=strategy())
    def check(data: bytes) -> None:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            home = folder / "home"
            shutil.copytree(template, home)
            export = write(data, folder, suffix)
            result = Kompas(home)("import", kind, export)
            assert result.exit_code in (0, 1), result.output
            assert "Traceback" not in result.output
            if result.exit_code == 1:
                lines = result.stderr.strip().splitlines()
                assert len(lines) == 1, result.stderr
                assert lines[0].startswith(f"error: {export}"), lines[0]
                assert snapshot(home) == before

    check()


def test_the_strategies_make_exports_that_import(template: Path, tmp_path: Path) -> None:
    """Without a defect, the cut samples are valid exports (so the defects are what fails)."""
    from fuzz_exports import _tar_gz, _x_js, _zip, mastodon_sample, x_sample

    x = _zip({f"data/{n}.js": _x_js(n, v) for n, v in x_sample().items()})
    mastodon = _tar_gz({f"{n}.json": json.dumps(v).encode() for n, v in mastodon_sample().items()})
    for kind, data, suffix in (("x-archive", x, ".zip"), ("mastodon-archive", mastodon, ".tgz")):
        home = tmp_path / kind
        shutil.copytree(template, home)
        result = Kompas(home)("import", kind, write(data, tmp_path, suffix))
        assert result.exit_code == 0, result.output
        assert "added" in result.stdout
