"""Unicode script detection for lexicon reports: ``char_script`` and ``word_scripts``."""

from __future__ import annotations

import bisect

import unicodedata2

__all__ = ["char_script", "word_scripts"]

# Letters and marks by block, for the scripts lexicons mostly use; anything else falls back
# to the first word of the character's Unicode name (TIFINAGH LETTER YA -> Tifinagh).
_SCRIPT_RANGES: list[tuple[int, int, str]] = sorted(
    [
        (0x0041, 0x005A, "Latin"),
        (0x0061, 0x007A, "Latin"),
        (0x00AA, 0x00AA, "Latin"),
        (0x00BA, 0x00BA, "Latin"),
        (0x00C0, 0x024F, "Latin"),
        (0x0250, 0x02AF, "Latin"),
        (0x1D00, 0x1D7F, "Latin"),
        (0x1E00, 0x1EFF, "Latin"),
        (0x2C60, 0x2C7F, "Latin"),
        (0xA720, 0xA7FF, "Latin"),
        (0xAB30, 0xAB6F, "Latin"),
        (0xFB00, 0xFB06, "Latin"),
        (0xFF21, 0xFF3A, "Latin"),
        (0xFF41, 0xFF5A, "Latin"),
        (0x0370, 0x03FF, "Greek"),
        (0x1F00, 0x1FFF, "Greek"),
        (0x0400, 0x052F, "Cyrillic"),
        (0x1C80, 0x1C8F, "Cyrillic"),
        (0x2DE0, 0x2DFF, "Cyrillic"),
        (0xA640, 0xA69F, "Cyrillic"),
        (0x0530, 0x058F, "Armenian"),
        (0xFB13, 0xFB17, "Armenian"),
        (0x0590, 0x05FF, "Hebrew"),
        (0xFB1D, 0xFB4F, "Hebrew"),
        (0x0600, 0x06FF, "Arabic"),
        (0x0750, 0x077F, "Arabic"),
        (0x0870, 0x08FF, "Arabic"),
        (0xFB50, 0xFDFF, "Arabic"),
        (0xFE70, 0xFEFF, "Arabic"),
        (0x0700, 0x074F, "Syriac"),
        (0x0780, 0x07BF, "Thaana"),
        (0x07C0, 0x07FF, "Nko"),
        (0x0900, 0x097F, "Devanagari"),
        (0xA8E0, 0xA8FF, "Devanagari"),
        (0x0980, 0x09FF, "Bengali"),
        (0x0A00, 0x0A7F, "Gurmukhi"),
        (0x0A80, 0x0AFF, "Gujarati"),
        (0x0B00, 0x0B7F, "Oriya"),
        (0x0B80, 0x0BFF, "Tamil"),
        (0x0C00, 0x0C7F, "Telugu"),
        (0x0C80, 0x0CFF, "Kannada"),
        (0x0D00, 0x0D7F, "Malayalam"),
        (0x0D80, 0x0DFF, "Sinhala"),
        (0x0E00, 0x0E7F, "Thai"),
        (0x0E80, 0x0EFF, "Lao"),
        (0x0F00, 0x0FFF, "Tibetan"),
        (0x1000, 0x109F, "Myanmar"),
        (0x10A0, 0x10FF, "Georgian"),
        (0x1C90, 0x1CBF, "Georgian"),
        (0x2D00, 0x2D2F, "Georgian"),
        (0x1100, 0x11FF, "Hangul"),
        (0x3130, 0x318F, "Hangul"),
        (0xA960, 0xA97F, "Hangul"),
        (0xAC00, 0xD7FF, "Hangul"),
        (0xFFA0, 0xFFDC, "Hangul"),
        (0x1200, 0x139F, "Ethiopic"),
        (0x2D80, 0x2DDF, "Ethiopic"),
        (0x13A0, 0x13FF, "Cherokee"),
        (0x1400, 0x167F, "Canadian_Aboriginal"),
        (0x1780, 0x17FF, "Khmer"),
        (0x1800, 0x18AF, "Mongolian"),
        (0x3041, 0x309F, "Hiragana"),
        (0x30A1, 0x30FA, "Katakana"),
        (0x30FD, 0x30FF, "Katakana"),
        (0x31F0, 0x31FF, "Katakana"),
        (0xFF66, 0xFF9D, "Katakana"),
        (0x3100, 0x312F, "Bopomofo"),
        (0x31A0, 0x31BF, "Bopomofo"),
        (0x2E80, 0x2FDF, "Han"),
        (0x3005, 0x3005, "Han"),
        (0x3007, 0x3007, "Han"),
        (0x3021, 0x3029, "Han"),
        (0x3038, 0x303B, "Han"),
        (0x3400, 0x4DBF, "Han"),
        (0x4E00, 0x9FFF, "Han"),
        (0xF900, 0xFAFF, "Han"),
        (0x20000, 0x323AF, "Han"),
        # combining marks used by every script
        (0x0300, 0x036F, "Inherited"),
        (0x1AB0, 0x1AFF, "Inherited"),
        (0x1DC0, 0x1DFF, "Inherited"),
        (0x20D0, 0x20FF, "Inherited"),
        (0xFE00, 0xFE0F, "Inherited"),
        (0xFE20, 0xFE2F, "Inherited"),
    ]
)
_SCRIPT_STARTS = [r[0] for r in _SCRIPT_RANGES]
_NAME_ALIASES = {"CJK": "Han", "COMBINING": "Inherited", "MODIFIER": "Common", "IDEOGRAPHIC": "Han"}


def char_script(c: str) -> str:
    """The Unicode script of one character, approximately: ``Latin``, ``Cyrillic``, ``Han``, ...

    Letters and marks of the common scripts come from a table of Unicode blocks, others from
    their Unicode name (via ``unicodedata2``); digits, punctuation and symbols are ``Common``,
    combining marks shared by all scripts ``Inherited``.
    """
    category = unicodedata2.category(c)
    if category[0] not in "LM":
        return "Common"
    cp = ord(c)
    i = bisect.bisect_right(_SCRIPT_STARTS, cp) - 1
    if i >= 0 and _SCRIPT_RANGES[i][0] <= cp <= _SCRIPT_RANGES[i][1]:
        return _SCRIPT_RANGES[i][2]
    name: str = unicodedata2.name(c, "")
    words = name.split()
    if words and words[0] in ("FULLWIDTH", "HALFWIDTH"):
        words = words[1:]
    if not words:
        return "Unknown"
    first = words[0].split("-")[0]
    return _NAME_ALIASES.get(first, first.title())


def word_scripts(word: str) -> set[str]:
    """The scripts of a word's letters; ``{"Common"}`` for a word without any."""
    scripts = {char_script(c) for c in word} - {"Common", "Inherited"}
    return scripts or {"Common"}
