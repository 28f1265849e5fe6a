"""Grade-import CSV files for Canvas and Moodle, from a grades folder.

    python -m nnlearn.grading.lms canvas grades/ --column "Chapter 1 (12345)" [--output canvas.csv]
    python -m nnlearn.grading.lms moodle grades/ --column "Chapter 1" [--output moodle.csv]

The score exported is the gradebook's final_points (autograded + marked by hand - late
penalty). Students are identified by the manifest's roster columns (nnlearn.grading.late):
pass --manifest to nnlearn-grade first. A submission without a student id is left out and
named on the console.

Canvas (Gradebook > Import; columns as the Gradebook export writes them, see
https://teaching.resources.osu.edu/toolsets/carmencanvas/guides/calculating-final-grades/import-csv-file-carmen-grades
and Canvas's guide "How do I import grades in the Gradebook?"): Student ("Last, First"), ID
(Canvas user id), SIS User ID, SIS Login ID, Section, then one column per assignment. A column
named "Assignment name (assignment id)" as in Canvas's export updates that assignment; another
name creates a new one.

Moodle (Grades > Import > CSV file, https://docs.moodle.org/311/en/Grade_import): any columns,
mapped on the import page; "Identify user by" maps a column to the user's email
(useremail) or ID number (useridnumber), and each grade column to a grade item; a feedback column
may be mapped to the item's feedback (Moodle advises importing grade and feedback together).
We write: Full name, ID number, Email address, the grade column, and "<column> (feedback)".
"""
import argparse
import csv
import io
import sys
from pathlib import Path

from .gradebook import MANUAL_FILE, ROSTER_FILE, _spreadsheet_safe, final_rows, read_json
from .output import write_private

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["Full name", "ID number", "Email address"]


def _summary(row):
    parts = [f"autograded {row['points']:g}/{row['max_points']:g}"]
    if row["manual_max"]:
        parts.append(f"marked by hand {row['manual_points']:g}/{row['manual_max']:g}")
    if row["late_penalty"]:
        parts.append(f"late penalty -{row['late_penalty']:g}")
    return "; ".join(parts)


def canvas_rows(rows, column):
    out = [CANVAS_COLUMNS + [column]]
    for row in rows:
        who = row["roster"]
        out.append([who.get("name", ""), row["student_id"], who.get("sis_user_id", ""), who.get("sis_login_id", ""),
                    who.get("section", ""), f"{row['final_points']:g}"])
    return out


def moodle_rows(rows, column):
    out = [MOODLE_COLUMNS + [column, f"{column} (feedback)"]]
    for row in rows:
        who = row["roster"]
        out.append([who.get("name", ""), who.get("sis_user_id") or row["student_id"], who.get("email", ""),
                    f"{row['final_points']:g}", _summary(row)])
    return out


def export(grades, lms, column):
    """(csv text, [submissions left out]) for the grades folder."""
    from .manual import signed_reports
    grades = Path(grades)
    rows = final_rows(signed_reports(grades), read_json(grades / MANUAL_FILE, {}),
                      read_json(grades / ROSTER_FILE, {}))
    missing = [r["submission"] for r in rows if not r["student_id"]]
    table = (canvas_rows if lms == "canvas" else moodle_rows)([r for r in rows if r["student_id"]], column)
    text = io.StringIO()
    csv.writer(text).writerows([[_spreadsheet_safe(cell) for cell in line] for line in table])
    return text.getvalue(), missing


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lms", choices=["canvas", "moodle"])
    parser.add_argument("grades", help="the grades folder nnlearn-grade wrote")
    parser.add_argument("--column", required=True, help="the assignment's column (Canvas: 'Name (id)' to update it)")
    parser.add_argument("--output", help="CSV file (default: GRADES/LMS-import.csv)")
    args = parser.parse_args(argv)
    text, missing = export(args.grades, args.lms, args.column)
    out = Path(args.output or Path(args.grades) / f"{args.lms}-import.csv")
    write_private(out, text)
    if missing:
        print(f"left out (no student id in the manifest): {', '.join(missing)}", file=sys.stderr)
    print(f"Wrote {out}: import it in {args.lms.capitalize()}'s gradebook.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
