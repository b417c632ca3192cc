"""Answers the adjudication tests start from: every field of the default seed and response forms."""

SEED_AGREED = {"decision": "accept", "clinical_validity": 4, "clarity": 4, "difficulty": 3}
RESPONSE_AGREED = {
    "correctness": 4,
    "helpfulness": 4,
    "consensus": "aligned",
    "inappropriate_content": "none",
    "missing_content": "none",
    "harm_extent": "none",
    "harm_likelihood": "low",
    "bias": "no",
}
