"""Due dates, submission times and late penalties.

The submission manifest is a CSV file with a header row. Required columns:

    file          the submitted file's name in the submissions folder (alice.ipynb)
    student_id    the student's id in the course roster (an LMS's user id, login or e-mail)
    submitted_at  ISO 8601 with a UTC offset: 2025-03-07T23:59:00+01:00 or 2025-03-07T22:59:00Z

Optional columns, used by the LMS exports (nnlearn.grading.lms): name ("Last, First"),
email, sis_user_id, sis_login_id, section. Where the submission time comes from is the
instructor's choice: the manifest (as an LMS's download lists it), or each file's modification
time (only meaningful when the files were copied with their times kept).

A late policy is a short text:

    none                    no penalty (the default)
    10%/day                 10 % of the assignment's points per started day late
    2%/hour,grace=15m       per started hour, after 15 minutes of grace
    10%/day,zero-after=7d   ... and nothing at all after seven days
    zero                    any late submission earns nothing

A penalty never takes a score below zero.
"""
import csv
import math
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone

MANIFEST_COLUMNS = ("file", "student_id", "submitted_at")
ROSTER_COLUMNS = ("name", "email", "sis_user_id", "sis_login_id", "section")
_UNITS = {"m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


class LateError(ValueError):
    """A manifest, time or policy the grader cannot read."""


def parse_time(text, what="time"):
    """An aware datetime from ISO 8601 text with a UTC offset ('Z' allowed)."""
    try:
        when = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        raise LateError(f"{what} {text!r} is not an ISO 8601 time such as 2025-03-07T23:59:00+01:00") from None
    if when.tzinfo is None:
        raise LateError(f"{what} {text!r} has no UTC offset; write e.g. {text}+01:00 or {text}Z")
    return when


def _duration(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(m|min|h|hour|d|day)", text.strip())
    if not m:
        raise LateError(f"duration {text!r}: expected e.g. 15m, 2h or 7d")
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclass(frozen=True)
class Policy:
    percent: float = 0.0          # of the assignment's points, per started unit
    unit_seconds: float = 86400.0
    grace_seconds: float = 0.0
    zero_after_seconds: float = math.inf
    text: str = "none"

    @classmethod
    def parse(cls, text):
        text = (text or "none").strip()
        if text in ("none", "zero"):
            return cls(text=text, zero_after_seconds=0.0 if text == "zero" else math.inf)
        head, *options = [part.strip() for part in text.split(",")]
        m = re.fullmatch(r"(\d+(?:\.\d+)?)%/(hour|day)", head)
        if not m:
            raise LateError(f"late policy {text!r}: expected 'none', 'zero' or e.g. '10%/day,grace=15m,zero-after=7d'")
        fields = {"percent": float(m.group(1)), "unit_seconds": _UNITS[m.group(2)], "text": text}
        for option in options:
            key, _, value = option.partition("=")
            if key not in ("grace", "zero-after"):
                raise LateError(f"late policy option {option!r}: only grace=… and zero-after=…")
            fields["grace_seconds" if key == "grace" else "zero_after_seconds"] = _duration(value)
        return cls(**fields)

    def penalty(self, seconds_late, earned, max_points):
        """Points taken off a score of `earned` (of `max_points`) handed in `seconds_late` late."""
        if seconds_late is None or seconds_late <= self.grace_seconds:
            return 0.0
        if seconds_late > self.zero_after_seconds or self.text == "zero":
            return max(earned, 0.0)
        units = math.ceil((seconds_late - self.grace_seconds) / self.unit_seconds)
        return round(min(max(earned, 0.0), units * self.percent / 100 * max_points), 4)


def read_manifest(path):
    """{file name: {student_id, submitted_at, name, email, ...}} from a manifest CSV."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in MANIFEST_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise LateError(f"manifest {path}: missing column(s) {', '.join(missing)}; "
                            f"expected a header with {', '.join(MANIFEST_COLUMNS)}")
        entries = {}
        for line, row in enumerate(reader, start=2):
            name = (row.get("file") or "").strip()
            if not name:
                raise LateError(f"manifest {path}, line {line}: no file name")
            if name in entries:
                raise LateError(f"manifest {path}, line {line}: {name!r} is listed twice")
            when = (row.get("submitted_at") or "").strip()
            if when:
                parse_time(when, f"manifest {path}, line {line}: submitted_at")
            entries[name] = {k: (row.get(k) or "").strip() for k in ("student_id", "submitted_at") + ROSTER_COLUMNS}
    return entries


def file_time(path):
    """A file's modification time as ISO 8601 UTC (the file itself, never what a link names)."""
    return datetime.fromtimestamp(os.lstat(path).st_mtime, timezone.utc).isoformat(timespec="seconds")


def roster_entry(path, manifest=None, time_from="manifest"):
    """What the gradebook records of a submission: its manifest row, with submitted_at from the
    manifest or from the file's time."""
    entry = dict((manifest or {}).get(os.path.basename(path), {}))
    if time_from == "mtime":
        entry["submitted_at"] = file_time(path)
    return entry


def seconds_late(submitted_at, due):
    """How late (0 when on time); None when the submission time is unknown."""
    if not submitted_at or not due:
        return None if not submitted_at and due else 0.0
    return max(0.0, (parse_time(submitted_at) - parse_time(due)).total_seconds())
