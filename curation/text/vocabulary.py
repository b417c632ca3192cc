"""Matching raw metadata spellings to canonical vocabulary terms.

Files spell the same idea many ways: "Rewrite", "Rewrites", "rewrite task"; "Medical student",
"Medical Students"; "Patient's Perspective". `normalise_key` folds the mechanical variants (case,
punctuation, plurals, possessives); curated aliases (`VocabularyAlias`) cover the rest.
"""

import re
import unicodedata

_JOINERS = re.compile(r"[&'\u2019\u2018`.]")
_SEPARATORS = re.compile(r"[^0-9a-z]+")
_KEEP_FINAL_S = ("ss", "us", "is", "ics")


def _singular(word: str) -> str:
    if len(word) <= 3 or word.endswith(_KEEP_FINAL_S):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s"):
        return word[:-1]
    return word


def normalise_key(raw: str) -> str:
    """The matching key of a raw value: "Multiple-Choice Q&As" and "multiple choice QA" give the same key."""
    text = unicodedata.normalize("NFKC", raw).casefold().strip()
    text = re.sub(r"['\u2019]s\b", "", text)
    text = _JOINERS.sub("", text)
    words = [_singular(word) for word in _SEPARATORS.split(text) if word]
    return " ".join(words)


# Canonical terms and curated aliases every installation starts with (a data migration loads them).
# Aliases list only what normalise_key cannot fold on its own.
DEFAULT_VOCABULARY: dict[str, dict[str, list[str]]] = {
    "task_type": {
        "Open Q&A": ["Open-ended Q&A", "Open QA", "Open question answering"],
        "Classification": ["Classification Task"],
        "Rewrite": ["Rewriting", "Rewrite Task", "Paraphrase"],
        "Summarization": ["Summarisation", "Summary"],
        "Text Generation": [],
        "Chat": ["Dialogue", "Conversation"],
        "Multiple-choice Q&A": ["Multiple choice question", "Multiple Choice", "MCQ"],
        "Multi-hop Reasoning": ["Multiple-hop Reasoning", "Multiple Hop Reasoning"],
        "Single-hop Reasoning": [],
        "USMLE-style Q&A": [],
        "Information Extraction": ["Extraction"],
    },
    "view": {
        "Patient": ["Patient's Perspective", "Patient view"],
        "Physician": ["Doctor", "Medical Practitioner", "General Practitioner", "Primary Care Physician"],
        "Clinician": ["Healthcare provider", "Primary Care Clinician"],
        "Medical Student": ["Student (Medicine)", "Med Student"],
        "Student": ["Student's View"],
        "Nurse": ["Registered Nurse"],
        "Pharmacist": [],
        "Researcher": ["Scientist"],
        "Caregiver": ["Parent of teenager"],
        "Medical Expert": ["Expert", "Expert View", "Medical Expert View", "Disease Expert"],
        "Expert Clinician": [],
        "Public Health Official": ["Public Health Officer"],
        "Genetic Counselor": ["Genetic Counsellor"],
        "Medical Training": [],
        "General Public": [],
    },
    "topic": {},
}
