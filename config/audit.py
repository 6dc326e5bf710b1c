"""`python -m config.audit`: the locked dependencies (`requirements.lock`) checked with pip-audit against a
vulnerability database (OSV by default).

A known vulnerability always fails (exit 1). An audit that could not run (the service unreachable, or no package
answered for) is never reported as a pass: the output says ``NOTHING WAS AUDITED: <reason>`` and the exit code is
0, or 2 with ``--require-audit`` (for machines that can reach the service, where a silent gap must fail).
"""

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
LOCK_FILE = PROJECT_DIR / "requirements.lock"
EXIT_VULNERABLE = 1
EXIT_NOT_AUDITED = 2


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    vulnerability: str
    fixed_in: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class AuditReport:
    """What one pip-audit run found; ``not_audited`` maps each package that was not checked to the reason."""

    findings: tuple[Finding, ...]
    audited: tuple[str, ...]
    not_audited: dict[str, str]


def report_from_json(output: str) -> AuditReport:
    """Read pip-audit's JSON output (``--format json``); raise ValueError when it is not that format."""
    data = json.loads(output)
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        raise ValueError("not pip-audit's JSON report")
    findings: list[Finding] = []
    audited: list[str] = []
    not_audited: dict[str, str] = {}
    for dependency in data["dependencies"]:
        name = str(dependency.get("name", "?"))
        if "skip_reason" in dependency:
            not_audited[name] = str(dependency["skip_reason"])
            continue
        audited.append(name)
        for vulnerability in dependency.get("vulns", []):
            ids = [str(vulnerability.get("id", "?")), *(str(alias) for alias in vulnerability.get("aliases", []))]
            findings.append(
                Finding(
                    package=name,
                    version=str(dependency.get("version", "?")),
                    vulnerability=", ".join(ids),
                    fixed_in=tuple(str(version) for version in vulnerability.get("fix_versions", [])),
                    description=str(vulnerability.get("description") or ""),
                )
            )
    return AuditReport(findings=tuple(findings), audited=tuple(audited), not_audited=not_audited)


def _failure_reason(stderr: str, returncode: int) -> str:
    # pip-audit ends a failed run with a traceback; its unindented lines name the exceptions (chained ones too,
    # e.g. the HTTP error behind a ServiceError) or carry pip-audit's own fatal message.
    skip = ("Traceback", "During handling", "The above exception")
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line[0].isspace()]
    reasons = [line for line in lines if not line.startswith(skip)]
    if not reasons:
        return f"pip-audit exited with {returncode} and no report"
    if ": " not in reasons[-1] and len(reasons) > 1:  # an exception without a message: say what caused it
        return f"{reasons[-1]} ({reasons[-2]})"
    return reasons[-1]


def pip_audit_command(*, requirement: Path, service: str, osv_url: str | None = None, timeout: int = 15) -> list[str]:
    """The pip-audit run over a hashed lock file: no resolution through pip, a JSON report on stdout."""
    command = [sys.executable, "-m", "pip_audit", "--requirement", str(requirement), "--disable-pip"]
    command += ["--format", "json", "--progress-spinner", "off", "--vulnerability-service", service]
    command += ["--timeout", str(timeout)]
    if osv_url:
        command += ["--osv-url", osv_url]
    return command


def main(argv: list[str] | None = None) -> int:
    """Run the audit, print what it found; return 0, 1 (a vulnerability) or 2 (nothing audited, when required)."""
    parser = argparse.ArgumentParser(prog="python -m config.audit", description=__doc__.splitlines()[0])
    parser.add_argument("--requirement", type=Path, default=LOCK_FILE, help="hashed lock file (requirements.lock)")
    parser.add_argument("--service", choices=["osv", "pypi"], default="osv", help="vulnerability database")
    parser.add_argument("--osv-url", default=None, help="another address of the OSV query API")
    parser.add_argument("--timeout", type=int, default=15, help="seconds to wait for the service")
    parser.add_argument("--require-audit", action="store_true", help="exit 2 when nothing or not all was audited")
    args = parser.parse_args(argv)

    command = pip_audit_command(
        requirement=args.requirement, service=args.service, osv_url=args.osv_url, timeout=args.timeout
    )
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        report = report_from_json(result.stdout)
    except ValueError:
        return _not_audited(_failure_reason(result.stderr, result.returncode), require=args.require_audit)

    for finding in report.findings:
        fixed = ", ".join(finding.fixed_in) or "no fixed version yet"
        _say(f"VULNERABLE {finding.package} {finding.version}: {finding.vulnerability} (fixed in {fixed})")
        if finding.description:
            _say(f"    {finding.description[:300]}")
    if report.findings:
        _say(f"{len(report.findings)} known vulnerabilities in {args.requirement.name}: update the lock file.")
        return EXIT_VULNERABLE
    if not report.audited:
        reasons = sorted(set(report.not_audited.values()))
        reason = reasons[0] if reasons else "the lock file lists no packages"
        more = f" (and {len(report.not_audited) - 1} more packages)" if len(report.not_audited) > 1 else ""
        return _not_audited(reason + more, require=args.require_audit)
    if report.not_audited:
        for name, reason in sorted(report.not_audited.items()):
            _say(f"NOT AUDITED {name}: {reason}")
    _say(
        f"No known vulnerabilities in {len(report.audited)} packages of {args.requirement.name} "
        f"({args.service}); {len(report.not_audited)} not audited."
    )
    return EXIT_NOT_AUDITED if report.not_audited and args.require_audit else 0


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def _not_audited(reason: str, *, require: bool) -> int:
    _say(f"NOTHING WAS AUDITED: {reason}")
    if require:
        return EXIT_NOT_AUDITED
    _say("(not failing: run with --require-audit where the vulnerability service is reachable)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
