#!/usr/bin/env python3
"""Completeness check for the widget's translations and the translated notices.

For every locales/*.json: the shape {language, dir, messages, purposes}, `language` equal
to the file name, `dir` "rtl" exactly for ar and he, `messages` with exactly the keys of
locales/en.json in the same order, `purposes` with exactly the nine purpose ids in order,
each {label, description}; every text a non-empty string without "<" or ">", with no
leading or trailing whitespace except where the English has it (those keys must keep it).
For the de/fr notices: same id, version, organisation, section ids, block kinds, inline
kinds, purpose ids, hrefs and contact block as the English notice, and purpose wording
equal to the same language's locale file.

Prints one line per problem and exits 1 if any; otherwise prints
"check-locales: ok (N languages)". Standard library only.
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
NOTICES = ROOT / "notices"
NOTICE_NAME = "qualys-privacy-highlights"
TRANSLATED_NOTICES = ("de", "fr")
RTL = {"ar", "he"}
PURPOSES = [
    "new_products",
    "announcements",
    "upgrades",
    "updates",
    "security",
    "initial_use",
    "expiration",
    "product_enhancement",
    "migration",
]
TOP_KEYS = ["language", "dir", "messages", "purposes"]

problems = []


def problem(where, what):
    problems.append(f"{where}: {what}")


def same_keys(name, what, keys, expected, order):
    """Exactly the `expected` keys, in their order."""
    for key in expected:
        if key not in keys:
            problem(name, f"{what}: missing {key!r}")
    for key in keys:
        if key not in expected:
            problem(name, f"{what}: extra {key!r}")
    if set(keys) == set(expected) and keys != expected:
        problem(name, f"{what}: not in {order}")


def load(path, formatted=True):
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        problem(path.relative_to(ROOT), f"can't read: {err}")
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        problem(path.relative_to(ROOT), f"not JSON: {err}")
        return None
    expected = json.dumps(data, ensure_ascii=False, indent=2)
    if formatted and text.rstrip("\n") != expected:
        problem(path.relative_to(ROOT), "not formatted as UTF-8 JSON with 2-space indent")
    return data


def check_text(where, value, edge_space_ok=False):
    if not isinstance(value, str):
        problem(where, f"not a string: {value!r}")
        return
    if not value.strip():
        problem(where, "empty")
        return
    if "<" in value or ">" in value:
        problem(where, "contains '<' or '>'")
    if not edge_space_ok and value != value.strip():
        problem(where, "leading or trailing whitespace")
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
        problem(where, "contains a control character")


def check_locale(path, reference):
    name = path.relative_to(ROOT)
    lang = path.stem
    data = load(path)
    if data is None:
        return
    if not isinstance(data, dict):
        problem(name, "not a JSON object")
        return
    if list(data) != TOP_KEYS:
        problem(name, f"top-level keys are {list(data)}, expected {TOP_KEYS}")
    if data.get("language") != lang:
        problem(name, f"language is {data.get('language')!r}, expected {lang!r}")
    expected_dir = "rtl" if lang in RTL else "ltr"
    if data.get("dir") != expected_dir:
        problem(name, f"dir is {data.get('dir')!r}, expected {expected_dir!r}")

    messages = data.get("messages")
    if not isinstance(messages, dict):
        problem(name, "messages is not an object")
    elif reference is not None:
        ref_messages = reference["messages"]
        same_keys(name, "messages", list(messages), list(ref_messages), "the order of en.json")
        for key, value in messages.items():
            where = f"{name}: messages.{key}"
            ref = ref_messages.get(key, "")
            trailing = isinstance(ref, str) and ref != ref.rstrip()
            check_text(where, value, edge_space_ok=trailing)
            if trailing and isinstance(value, str):
                if not value.endswith(" ") or value != value.lstrip():
                    problem(where, "must end with one space, like the English")

    purposes = data.get("purposes")
    if not isinstance(purposes, dict):
        problem(name, "purposes is not an object")
        return
    same_keys(name, "purposes", list(purposes), PURPOSES, "the expected order")
    for pid, entry in purposes.items():
        where = f"{name}: purposes.{pid}"
        if not isinstance(entry, dict):
            problem(where, "not an object")
            continue
        if sorted(entry) != ["description", "label"]:
            problem(where, f"keys are {list(entry)}, expected label and description")
        for field in ("label", "description"):
            if field in entry:
                check_text(f"{where}.{field}", entry[field])


def inline_kinds(items):
    return [next(iter(item), None) if isinstance(item, dict) else None for item in items]


def outline(notice):
    """What must not change between languages: ids, kinds, hrefs, contact."""
    sections = []
    for section in notice.get("sections", []):
        blocks = []
        for block in section.get("blocks", []):
            kind = next(iter(block), None)
            if kind == "paragraph":
                blocks.append((kind, inline_kinds(block[kind])))
            elif kind == "links":
                blocks.append((kind, len(block[kind])))
            else:
                blocks.append((kind, None))
        sections.append((section.get("id"), blocks))
    return {
        "section ids": [s[0] for s in sections],
        "block kinds": sections,
        "introduction kinds": inline_kinds(notice.get("introduction", [])),
        "purpose ids": [p.get("id") for p in notice.get("purposes", [])],
        "hrefs": hrefs(notice),
        "contact": [
            block["contact"]
            for section in notice.get("sections", [])
            for block in section.get("blocks", [])
            if "contact" in block
        ],
        "id": notice.get("id"),
        "version": notice.get("version"),
        "organisation": notice.get("organisation"),
    }


def hrefs(value):
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "href":
                found.append(item)
            else:
                found.extend(hrefs(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(hrefs(item))
    return found


def texts(value, path=""):
    """Every human-readable string in a notice, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("href", "id", "version", "language", "contact"):
                continue
            yield from texts(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from texts(item, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value


def check_notice(lang, english, locale):
    path = NOTICES / f"{NOTICE_NAME}.{lang}.json"
    name = path.relative_to(ROOT)
    if not path.exists():
        problem(name, "missing")
        return
    notice = load(path)
    if notice is None:
        return
    if notice.get("language") != lang:
        problem(name, f"language is {notice.get('language')!r}, expected {lang!r}")
    if list(notice) != list(english):
        problem(name, f"top-level keys differ from the English notice: {list(notice)}")
    ours, theirs = outline(notice), outline(english)
    for aspect, value in theirs.items():
        if ours[aspect] != value:
            problem(name, f"{aspect} differ from the English notice")
    for where, value in texts(notice):
        # Inline runs may begin or end with a space: they join other runs.
        check_text(f"{name}: {where}", value, edge_space_ok=True)
    if locale is not None and isinstance(locale.get("purposes"), dict):
        for purpose in notice.get("purposes", []):
            entry = locale["purposes"].get(purpose.get("id"))
            if entry is not None and (
                entry.get("label") != purpose.get("label")
                or entry.get("description") != purpose.get("description")
            ):
                problem(name, f"purpose {purpose.get('id')!r} worded differently from locales/{lang}.json")
    first = notice.get("introduction", [{}])[0]
    english_first = english.get("introduction", [{}])[0]
    if "text" in first and first.get("text") == english_first.get("text"):
        problem(name, "introduction not translated")


def main():
    reference_path = LOCALES / "en.json"
    reference = load(reference_path) if reference_path.exists() else None
    if reference is None or not isinstance(reference.get("messages"), dict):
        problem("locales/en.json", "missing or unusable: it is the reference")
        reference = None
    files = sorted(LOCALES.glob("*.json"))
    locales = {}
    for path in files:
        check_locale(path, reference)
        try:
            locales[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass

    english_path = NOTICES / f"{NOTICE_NAME}.en.json"
    english = load(english_path, formatted=False) if english_path.exists() else None
    if english is None:
        problem(english_path.relative_to(ROOT), "missing or unusable")
    else:
        for lang in TRANSLATED_NOTICES:
            check_notice(lang, english, locales.get(lang))

    for line in problems:
        print(line)
    if problems:
        return 1
    print(f"check-locales: ok ({len(files)} languages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
