"""``make audit``: pip-audit over the locked dependencies (requirements-dev.lock), when the
network allows.

pip-audit asks PyPI's JSON API for each pinned release's advisories. Where that API cannot
be reached (offline, or a registry mirror without it), every dependency comes back
"skipped": this says so plainly and exits 0, instead of reporting a clean bill of health
it never checked. Known vulnerabilities exit 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements-dev.lock"


def main() -> int:
    """Run pip-audit and summarise what it could and could not check."""
    pip_audit = Path(sys.executable).with_name("pip-audit")
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "audit.json"
        completed = subprocess.run(
            [
                str(pip_audit),
                "--requirement",
                str(LOCK),
                "--no-deps",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(report),
            ],
            capture_output=True,
            text=True,
        )
        if not report.exists():
            print(f"make audit: pip-audit could not run here, nothing checked:\n{completed.stderr}")
            return 0
        results = json.loads(report.read_text())
    dependencies = results.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = [d for d in dependencies if not d.get("skip_reason")]
    found = [(d["name"], d["version"], v) for d in audited for v in d.get("vulns", [])]
    if not audited:
        print(
            f"make audit: PyPI's vulnerability data is not reachable from here "
            f"({len(skipped)} of {len(dependencies)} dependencies skipped): nothing checked."
        )
        return 0
    for name, version, vuln in found:
        fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
        print(f"{name} {version}: {vuln.get('id')} (fixed in {fixes})")
    print(
        f"make audit: {len(audited)} dependencies checked, {len(skipped)} skipped, "
        f"{len(found)} known vulnerabilities."
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
