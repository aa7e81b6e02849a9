"""Attack audit of a publication: what a careful attacker can derive by linear programming.

Independent of the protection code on purpose: it reads only the publication file, the
internal (true) counts and the catalogue. Entry points: :func:`run_audit`,
:func:`format_report`.
"""

from etl.audit.model import Rules
from etl.audit.report import AuditReport, LevelLoss, TargetResult, format_report, run_audit

__all__ = ["AuditReport", "LevelLoss", "Rules", "TargetResult", "format_report", "run_audit"]
