"""Text that the grader shows people: short, one line, no control characters."""
import re

MAX_MESSAGE = 300
# ANSI escape sequences and every C0/C1 control character but none of the printable text.
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x1f\x7f-\x9f]")


def clean(text):
    """text without terminal escape sequences or control characters (a message from a
    student's exception cannot rewrite the instructor's console)."""
    return _CONTROL.sub(" ", str(text))


def short(text, limit=MAX_MESSAGE):
    text = " ".join(clean(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
