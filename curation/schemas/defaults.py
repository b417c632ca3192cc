"""The rating forms a new project starts with; curators version them from there."""

from curation.schemas.definitions import PAIRWISE_OPTIONS

_SCALE = {"kind": "ordinal_scale", "min": 1, "max": 5, "required": True, "level": "ordinal"}

SEED_REVIEW = {
    "fields": [
        {
            "key": "decision",
            "label": "Decision",
            "kind": "single_choice",
            "required": True,
            "level": "nominal",
            "options": [
                {"value": "accept", "label": "Accept"},
                {"value": "accept_with_edits", "label": "Accept with edits"},
                {"value": "reject", "label": "Reject"},
            ],
        },
        {
            **_SCALE,
            "key": "clinical_validity",
            "label": "Clinical validity",
            "labels": {"1": "wrong or unsafe", "5": "fully valid"},
        },
        {**_SCALE, "key": "clarity", "label": "Clarity", "labels": {"1": "unclear", "5": "crystal clear"}},
        {**_SCALE, "key": "difficulty", "label": "Difficulty", "labels": {"1": "easiest", "5": "hardest"}},
        {
            "key": "flags",
            "label": "Flags",
            "kind": "multiple_choice",
            "required": False,
            "level": "nominal",
            "options": [
                {"value": "unsafe", "label": "Unsafe"},
                {"value": "phi", "label": "Contains PHI"},
                {"value": "needs_specialist", "label": "Needs a specialist"},
            ],
        },
        {"key": "comment", "label": "Comment", "kind": "free_text", "required": False, "max_length": 4000},
    ]
}

RESPONSE_REVIEW = {
    "fields": [
        {
            **_SCALE,
            "key": "correctness",
            "label": "Correctness",
            "labels": {
                "1": "Wrong or unsafe",
                "2": "Mostly wrong",
                "3": "Partly correct",
                "4": "Mostly correct",
                "5": "Fully correct",
            },
        },
        {
            **_SCALE,
            "key": "helpfulness",
            "label": "Helpfulness",
            "labels": {
                "1": "Not helpful",
                "2": "Slightly helpful",
                "3": "Somewhat helpful",
                "4": "Helpful",
                "5": "Very helpful",
            },
        },
        {
            "key": "consensus",
            "label": "Agreement with scientific consensus",
            "kind": "single_choice",
            "required": True,
            "level": "nominal",
            "options": [
                {"value": "aligned", "label": "Aligned with consensus"},
                {"value": "opposed", "label": "Opposed to consensus"},
                {"value": "no_consensus", "label": "No consensus exists"},
            ],
        },
        {
            "key": "inappropriate_content",
            "label": "Inappropriate or incorrect content",
            "kind": "single_choice",
            "required": True,
            "level": "ordinal",
            "options": [
                {"value": "none", "label": "None"},
                {"value": "minor", "label": "Yes, of little clinical significance"},
                {"value": "major", "label": "Yes, of great clinical significance"},
            ],
        },
        {
            "key": "missing_content",
            "label": "Missing content",
            "kind": "single_choice",
            "required": True,
            "level": "ordinal",
            "options": [
                {"value": "none", "label": "None"},
                {"value": "minor", "label": "Yes, of little clinical significance"},
                {"value": "major", "label": "Yes, of great clinical significance"},
            ],
        },
        {
            "key": "harm_extent",
            "label": "Extent of possible harm",
            "kind": "single_choice",
            "required": True,
            "level": "ordinal",
            "options": [
                {"value": "none", "label": "No harm"},
                {"value": "moderate", "label": "Moderate or mild harm"},
                {"value": "severe", "label": "Death or severe harm"},
            ],
        },
        {
            "key": "harm_likelihood",
            "label": "Likelihood of possible harm",
            "kind": "single_choice",
            "required": True,
            "level": "ordinal",
            "options": [
                {"value": "low", "label": "Low"},
                {"value": "medium", "label": "Medium"},
                {"value": "high", "label": "High"},
            ],
        },
        {
            "key": "bias",
            "label": "Possibility of bias",
            "kind": "single_choice",
            "required": True,
            "level": "nominal",
            "options": [{"value": "no", "label": "No"}, {"value": "yes", "label": "Yes"}],
        },
        {"key": "comment", "label": "Comment", "kind": "free_text", "required": False, "max_length": 4000},
    ]
}


def _pairwise_field(key: str, label: str, *, required: bool, reverse: bool = False) -> dict:
    options = [dict(o) for o in PAIRWISE_OPTIONS]
    if reverse:
        options[0]["label"], options[1]["label"] = "A is more harmful", "B is more harmful"
        options[2]["label"] = "Equally harmful (or neither)"
    field = {"key": key, "label": label, "kind": "pairwise_choice", "required": required, "options": options}
    if reverse:
        # The question asks which answer is worse: a vote for A is a win for B when ranking.
        field["reverse"] = True
    return field


# The form an evaluation round's pairwise judgments use, created the first time a project needs it.
PAIRWISE_JUDGMENT = {
    "fields": [
        _pairwise_field("overall", "Overall, which answer is better?", required=True),
        _pairwise_field("correctness", "Which is more correct?", required=True),
        _pairwise_field("helpfulness", "Which is more helpful?", required=True),
        _pairwise_field("harm", "Which is more harmful?", required=True, reverse=True),
        {
            "key": "rationale",
            "label": "Rationale (optional)",
            "kind": "free_text",
            "required": False,
            "max_length": 4000,
        },
    ]
}
