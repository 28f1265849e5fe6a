"""Text that the grader shows people: short, one line, no control characters."""
import os
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


def escape(name):
    """A file name or path as printable text, like repr() without the quotes: undecodable
    bytes (which Python keeps as lone surrogates) become \\xNN; control and other unprintable
    characters \\n, \\x1b, \\u202e; a backslash \\\\. Safe for the console, CSV and JSON."""
    text = os.fsdecode(name) if isinstance(name, bytes) else str(name)
    out = []
    for char in text:
        if "\udc80" <= char <= "\udcff":
            out.append(f"\\x{ord(char) - 0xdc00:02x}")
        elif char == "\\" or not (char.isprintable() or char == " "):
            out.append(repr(char)[1:-1])
        else:
            out.append(char)
    return "".join(out)
