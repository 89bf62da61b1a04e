#!/usr/bin/env python3
"""Build lexicons/multisimlex.tsv, the shipped default lexicon, from the Multi-SimLex concept
list as curated in Concepticon (Vulic-2020-2244, CC BY 4.0). Stdlib only, deterministic.
Every cleaning rule is documented, with its counts, in lexicons/README.md.

    python lexicons/build_multisimlex.py [--data DIR] [--out FILE]
"""

import argparse
import collections
import csv
import hashlib
import re
import unicodedata
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
LANGS = {
    "ENGLISH": "en",
    "RUSSIAN": "ru",
    "SPANISH": "es",
    "FRENCH": "fr",
    "POLISH": "pl",
    "FINNISH": "fi",
    "ESTONIAN": "et",
    "WELSH": "cy",
    "ARABIC": "ar",
    "HEBREW": "he",
    "CHINESE": "zh",
    "CANTONESE": "yue",
}
HEADER = ["lang", "word", "concept", "field", "pos", "concepticon", "gloss"]
POS = {"nouns": "noun", "verbs": "verb", "adjectives": "adjective", "adverbs": "adverb"}
# A gloss-matched Concepticon set must have an ontological category that fits the POS.
POS_CATEGORIES = {
    "noun": {"Person/Thing"},
    "verb": {"Action/Process"},
    "adjective": {"Property", "Other"},
    "adverb": {"Property", "Other"},
}
# Exact gloss matches that name another sense (checked against Concepticon's DEFINITION).
WRONG_SENSE_GLOSSES = {
    "cone": "pine cone; Multi-SimLex pairs cone with cup",
    "post": "wooden post; Multi-SimLex pairs post (mail) with speed",
    "wrapper": "a West African garment; Multi-SimLex means packaging",
}
# Words found wrong while reviewing the parenthesised cells: (lang, NUMBER, word) -> why.
EXCLUDED = {
    ("et", 34, "autor"): "'author', for car",
    ("et", 833, "puur"): "'cage', for tree",
    ("et", 1896, "jänes"): "'hare' (rabbit), for rabbi",
    ("et", 90, "allkirjastama"): "'to sign', for sing (the variant laulma is kept)",
    ("et", 1228, "preagu"): "typo of praegu",
    ("et", 1867, "pritsess"): "typo of printsess",
    ("et", 1638, "margniaalselt"): "typo of marginaalselt",
    ("et", 903, "agressivne"): "typo",
    ("et", 1794, "passivselt"): "typo",
    ("et", 874, "aktsepeerima"): "typo",
    ("et", 1741, "imlselgelt"): "typo of ilmselgelt",
    ("fi", 1078, "kadetraali"): "typo",
    ("fi", 2072, "puhvi"): "typo of pihvi",
    ("fi", 1512, "nõyrästi"): "typo (Estonian õ)",
    ("fi", 515, "veduri"): "typo of veturi",
    ("fi", 1330, "vaaleilla"): "'in elections', a qualifier",
    ("pl", 299, "łózko"): "typo",
    ("pl", 555, "szczęscie"): "typo",
    ("pl", 1848, "możlwie"): "typo",
    ("pl", 1598, "skalna"): "'rocky', a qualifier of półka (skalna)",
    ("ru", 1178, "завование"): "typo",
    ("ru", 1861, "пристуствие"): "typo",
    ("ru", 1863, "приворяться"): "typo",
    ("ru", 1428, "галакси"): "not Russian (галактика)",
    ("ru", 1035, "шар"): "'ball': bowling sense, merged into the container bowl",
}
WHITE_SPACE = set("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)
}  # Unicode White_Space, as Rust's char::is_whitespace
FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2060\ufeff]")


def is_valid(word: str) -> bool:
    """The loader's rules: non-empty UTF-8, NFC, no whitespace, no control/format chars."""
    return (
        bool(word)
        and len(word.encode("utf-8")) <= 1024
        and unicodedata.is_normalized("NFC", word)
        and not FORBIDDEN.search(word)
        and not any(c.isspace() or c in WHITE_SPACE for c in word)
    )


def check(ok: bool, what: object) -> None:
    """assert that also runs under python -O."""
    if not ok:
        raise AssertionError(what)


def split_cell(cell: str) -> tuple[str, list[str]]:
    """'head (v1/v2)' -> ('head', ['v1', 'v2']); parentheses inside a variant are optional parts."""
    cell = " ".join(cell.split())
    if "(" not in cell:
        return cell, []
    head, _, inner = cell.partition("(")
    inner = inner[: inner.rindex(")")] if ")" in inner else inner
    return head.strip(), [v.partition("(")[0].strip() for v in inner.split("/")]


def clean(word: str, lang: str, counts: Counter[str]) -> str:
    word = unicodedata.normalize("NFC", " ".join(word.split()).lower())
    if lang == "ru" and "\u0301" in word:  # Russian stress marks (коро́ва) are not spelling
        word = word.replace("\u0301", "")
        counts["stress mark removed"] += 1
    return word


def drop_reason(word: str, lang: str, number: int, is_variant: bool) -> str | None:
    if not word:
        return "empty"
    if any(c.isspace() for c in word):
        return "multi-word variant/note" if is_variant else "multi-word"
    if not any(c.isalpha() for c in word) or any(not (unicodedata.category(c)[0] in "LM" or c in "-'") for c in word):
        return "not a word (digits, brackets)"
    if {unicodedata.name(c, "?").split()[0] for c in word if c.isalpha()} >= {"LATIN", "CYRILLIC"}:
        return "mixed Latin/Cyrillic"
    if (lang, number, word) in EXCLUDED:
        return "excluded by hand"
    return None if is_valid(word) else "fails validation"


def read_tsv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise SystemExit(f"{path}: not found (point --data at the shared data folder)")
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=HERE.parent / ".." / "shared" / "data")
    ap.add_argument("--out", type=Path, default=HERE / "multisimlex.tsv")
    args = ap.parse_args()
    rows = read_tsv(args.data / "concepts" / "Vulic-2020-2244.tsv")
    concepticon = read_tsv(args.data / "concepts" / "concepticon.tsv")
    by_id = {c["ID"]: c for c in concepticon}
    gloss_count = Counter(c["GLOSS"] for c in concepticon)
    by_gloss = {c["GLOSS"]: c for c in concepticon if gloss_count[c["GLOSS"]] == 1}
    # Only NUMBER, GLOSS, POS, CONCEPTICON_ID and the 12 language columns are used.
    rows.sort(key=lambda r: int(r["NUMBER"]))
    canonical: dict[tuple[str, str], int] = {}  # (GLOSS, POS) -> lowest NUMBER
    meta: dict[int, dict[str, str]] = {}
    out: set[tuple[str, int, str]] = set()
    drops: dict[str, Counter[str]] = collections.defaultdict(Counter)
    notes: dict[str, Counter[str]] = collections.defaultdict(Counter)
    excluded_hit: set[tuple[str, int, str]] = set()
    sense_rejected: set[str] = set()
    gloss_fields = 0
    for r in rows:
        number, pos = int(r["NUMBER"]), POS[r["POS"]]
        concept = canonical.setdefault((r["GLOSS"], r["POS"]), number)
        if concept != number:
            notes["all"]["rows merged into a lower NUMBER"] += 1
        cid = r["CONCEPTICON_ID"]
        if cid:
            field = by_id[cid]["SEMANTICFIELD"]
        else:
            match = by_gloss.get(r["GLOSS"].upper())
            ok = (
                match is not None
                and match["ONTOLOGICAL_CATEGORY"] in POS_CATEGORIES[pos]
                and r["GLOSS"] not in WRONG_SENSE_GLOSSES
            )
            field = match["SEMANTICFIELD"] if match is not None and ok else ""
            if match is not None and not ok:
                notes["all"]["gloss matches rejected (POS or sense)"] += 1
                sense_rejected.add(r["GLOSS"])
            gloss_fields += 1 if field and concept == number else 0
        if concept not in meta or (cid and not meta[concept]["concepticon"]):
            meta[concept] = {"field": field, "pos": pos, "concepticon": cid, "gloss": r["GLOSS"]}
        for column, lang in LANGS.items():
            head, variants = split_cell(r[column])
            for i, raw in enumerate([head] + variants):
                word = clean(raw, lang, notes[lang])
                reason = drop_reason(word, lang, number, i > 0)
                if reason:
                    drops[lang][reason] += 1
                    if reason == "excluded by hand":
                        excluded_hit.add((lang, number, word))
                elif (lang, concept, word) in out:
                    notes[lang]["duplicate (same concept)"] += 1
                else:
                    out.add((lang, concept, word))
                    notes[lang]["kept variant" if i else "kept head"] += 1
    # The hand-made tables must stay in step with the data.
    check(excluded_hit == set(EXCLUDED), set(EXCLUDED) - excluded_hit)
    check(set(WRONG_SENSE_GLOSSES) <= sense_rejected, set(WRONG_SENSE_GLOSSES) - sense_rejected)

    lines = ["\t".join(HEADER)]
    for lang, concept, word in sorted(out):
        m = meta[concept]
        check(is_valid(word), (lang, concept, word))  # the self check: the loader's rules
        cells = [lang, word, str(concept), m["field"], m["pos"], m["concepticon"], m["gloss"]]
        check(all("\t" not in c and "\n" not in c for c in cells), cells)
        lines.append("\t".join(cells))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    args.out.write_bytes(data)

    per_lang = Counter(lang for lang, _, _ in out)
    print(f"wrote {args.out}: {len(out)} rows, {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    print("rows per language:", ", ".join(f"{k} {per_lang[k]}" for k in sorted(per_lang)))
    for lang in sorted(drops):
        print(f"  {lang:>3} dropped: " + ", ".join(f"{k} {v}" for k, v in sorted(drops[lang].items())))
    for lang in sorted(notes):
        print(f"  {lang:>3} notes: " + ", ".join(f"{k} {v}" for k, v in sorted(notes[lang].items())))
    used = {c for _, c, _ in out}
    with_field = [c for c in used if meta[c]["field"]]
    print(
        f"concepts: {len(used)}; with a field: {len(with_field)} "
        f"({sum(1 for c in with_field if meta[c]['concepticon'])} via CONCEPTICON_ID, "
        f"{gloss_fields} via an exact gloss match); "
        f"rows with a field: {sum(1 for _, c, _ in out if meta[c]['field'])}; "
        f"fields: {len({meta[c]['field'] for c in with_field})}"
    )


if __name__ == "__main__":
    main()
