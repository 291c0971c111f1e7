"""Text normalisation: repair Unicode, unwrap hard-wrapped lines, settle whitespace.

The normalised body is the coordinate system of everything downstream: paragraphs are
separated by exactly one blank line ("\\n\\n"), a paragraph holds no newline and no run of
spaces, and `normalize_body(normalize_body(x)) == normalize_body(x)`.

>>> normalize_body("Showers continued in\\nthe Bahia zone.\\n    The dry period ends.\\n Reuter\\n")
'Showers continued in the Bahia zone.\\n\\nThe dry period ends.\\n\\nReuter'
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

# HTML entities are decoded by the readers that know their format uses them; decoding here
# would make normalisation non-idempotent ("&amp;lt;" -> "&lt;" -> "<").
_FTFY = ftfy.TextFixerConfig(unescape_html=False, explain=False)

# C0/C1 controls other than tab and newline (Reuters bodies end in a stray ETX, \x03), and
# the bidi embeddings and overrides that make text display other than it reads.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\ufeff\u202a-\u202e\u2066-\u2069]")
_TERMINAL_ESCAPES = re.compile(r"\x1b\[[0-9;]{0,32}[A-Za-z]")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n[^\S\n]*\n\s*")

# A block is hard-wrapped (Reuters wraps at ~70 columns) when all its lines but the last
# have a plausible fixed width; otherwise each line is a paragraph of its own.
_WRAP_MIN, _WRAP_MAX = 30, 100


def repair_unicode(text: str) -> str:
    """Fix mojibake and odd code points (ftfy), drop control characters, unify line breaks."""
    text = _TERMINAL_ESCAPES.sub("", text)
    # Controls are dropped before ftfy too, so that it sees the sequences it can repair.
    text = _CONTROL.sub("", text)
    # ftfy changes nothing in ASCII text once controls and escapes are gone; skipping it
    # there halves the cost of ingesting English wire copy.
    if not text.isascii():
        text = ftfy.fix_text(text, _FTFY)
    text = _LINE_BREAKS.sub("\n", text)
    return _CONTROL.sub("", text)


def _wrap_width(line: str) -> bool:
    return _WRAP_MIN <= len(line.strip()) <= _WRAP_MAX


def _hard_wrapped(lines: list[str]) -> bool:
    """Whether a block's lines are one paragraph wrapped at a fixed width.

    The first line may be short when it does not end a sentence: Reuters' first line
    lost its dateline ("Cominco Ltd said its" / "Cominco metals division lowered ...").
    """
    if len(lines) < 2:
        return False
    if all(_wrap_width(line) for line in lines[:-1]):
        return True
    return (
        len(lines) >= 3
        and all(_wrap_width(line) for line in lines[1:-1])
        and not lines[0].rstrip().endswith(_SENTENCE_END)
    )


_SENTENCE_END = (".", "!", "?", ":", '"', "”", "'", "’", ")")


def _split_block(lines: list[str]) -> list[str]:
    """Turn the lines of one blank-line-delimited block into paragraphs."""
    paragraphs: list[list[str]] = []
    # An indented line (after the first) opens a new paragraph: the Reuters convention.
    indented = any(line[:1].isspace() for line in lines[1:])
    if indented:
        for line in lines:
            if line[:1].isspace() or not paragraphs:
                paragraphs.append([line])
            else:
                paragraphs[-1].append(line)
    elif _hard_wrapped(lines):
        paragraphs.append(lines)
    else:
        paragraphs.extend([line] for line in lines)
    out = []
    for para in paragraphs:
        text = _SPACES.sub(" ", " ".join(para)).strip()
        if text:
            out.append(text)
    return out


def normalize_body(text: str) -> str:
    """Normalise an article body; see the module docstring for the guarantees."""
    out = _normalize_once(text)
    # ftfy's repairs depend on context (trimming a leading space can make "Â " look like
    # mojibake), so non-ASCII text is normalised again until it is a fixpoint.
    for _ in range(4):
        if out.isascii():
            break
        again = _normalize_once(out)
        if again == out:
            break
        out = again
    return out


def _normalize_once(text: str) -> str:
    text = repair_unicode(text)
    paragraphs: list[str] = []
    for block in _BLANK_LINES.split(text):
        lines = [line for line in block.split("\n") if line.strip()]
        if lines:
            paragraphs.extend(_split_block(lines))
    return "\n\n".join(paragraphs)


def normalize_line(text: str) -> str:
    """Normalise a one-line field (title, byline, outlet): repaired, one space between words."""
    return _SPACES.sub(" ", repair_unicode(text).replace("\n", " ")).strip()


_FOLD_DROP = re.compile(r"[^\w\s]+")
_FOLD_SPACE = str.maketrans({"—": " ", "–": " ", "-": " ", "_": " "})


def fold(text: str) -> str:
    """Matching form: case-folded, accents stripped, punctuation removed, one space between words.

    >>> fold("Gen. Michael Flynn's “frequent” calls—Kislyak")
    'gen michael flynns frequent calls kislyak'
    """
    text = text.casefold()
    if not text.isascii():
        # The accents NFKD splits off are combining marks, and every combining mark
        # (`unicodedata.combining`) is outside `\w` and `\s`: `_FOLD_DROP` deletes them with
        # the punctuation (a test checks all 912), so no character-by-character pass here.
        text = unicodedata.normalize("NFKD", text)
    text = _FOLD_DROP.sub("", text.translate(_FOLD_SPACE))
    return " ".join(text.split())
