"""Real mothers' words from the study Kindred comes from (shared/research), as an evaluation set.

The quotes are long first-person stories about pregnancy, birth, services and groups: exactly the
messages the safety model must leave alone (no toxic or insensitive flag). They are read from the
study's text at evaluation time and are never trained on (``corpus`` never reads them).

Extraction: text between an opening curly quote and the participant code that closes it
(``M3``, ``FG2/M5`` …) or the closing quote, with the PDF's line-end hyphenation undone.
"""

from __future__ import annotations

import re
from pathlib import Path

STUDY = (
    Path(__file__).resolve().parents[3] / "shared" / "research" / "perinatal-peer-support-study.txt"
)
#: a participant code that ends a quote: "M3", "Me6", "FG2/M5", "(M7)", "FG3/M1I"
_CODE = re.compile(r"[\s,]*\(?\b(?:FG\d+/)?Me?\d+I?\b\)?")
MIN_CHARS = 40


def quotes(path: Path = STUDY) -> list[str]:
    text = path.read_text(encoding="utf-8")
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        for m in re.finditer(r"“(.+?)(?:”|$)", paragraph, re.DOTALL):
            body = m.group(1)
            body = re.sub(r"-\n(?=[a-z])", "", body)  # "toi-\nlet" → "toilet"
            body = " ".join(body.split()).strip(" .\"'’”")
            body = _CODE.split(body)[0].strip(" .,\"'’”")
            if len(body) >= MIN_CHARS and not body.lower().startswith(
                ("what are women", "secret society")
            ):
                out.append(body)
    return list(dict.fromkeys(out))
