"""A small HealthBench-format file written for the tests: 10 rubric rows over both levels, every
axis and three themes, and meta-eval rows labelled by three pseudonymous physicians."""

AXES = ("accuracy", "completeness", "communication_quality", "context_awareness", "instruction_following")
THEMES = ("emergency_referrals", "hedging", "global_health")


def rubric_rows() -> list[dict]:
    rows = []
    for i in range(10):
        criteria = [
            {
                "criterion": f"States the key fact {i} correctly",
                "points": 7,
                "tags": ["level:example", f"axis:{AXES[i % 5]}"],
            },
            {"criterion": f"Claims a false dose {i}", "points": -5, "tags": ["level:example", "axis:accuracy"]},
            {
                "criterion": "Seeks the missing context that matters most",
                "points": 5,
                "tags": ["level:cluster", "cluster:context_seeking_enough-context", f"axis:{AXES[(i + 3) % 5]}"],
            },
        ]
        row = {
            "prompt": [
                {"role": "user", "content": f"Question {i}: my child has a fever of 39 °C, what now?"},
                *(
                    [{"role": "assistant", "content": "How old is your child?"}, {"role": "user", "content": "Two."}]
                    if i % 3 == 0
                    else []
                ),
            ],
            "prompt_id": f"hb-{i:03d}",
            "example_tags": [f"theme:{THEMES[i % 3]}", "physician_agreed_category:enough-context"],
            "rubrics": criteria,
        }
        if i % 2 == 0:
            row["ideal_completions_data"] = {
                "ideal_completion": f"Ideal answer {i}",
                "ideal_completions_group": "Group 1",
            }
        elif i == 1:
            row["ideal_completions_data"] = None
        rows.append(row)
    return rows


def meta_eval_rows() -> list[dict]:
    rows = []
    for i in range(4):
        for model_answer in ("Give paracetamol and watch for warning signs.", "Go to the emergency department now."):
            rows.append(
                {
                    "prompt": rubric_rows()[i]["prompt"],
                    "completion": [{"role": "assistant", "content": f"{model_answer} ({i})"}],
                    "rubric": f"States the key fact {i} correctly",
                    "category": f"axis:{AXES[i % 5]}",
                    "binary_labels": [True, i % 2 == 0, False],
                    "anonymized_physician_ids": ["phys-7", "phys-2", "phys-9"][: 3 - (i == 3)]
                    if i == 3
                    else ["phys-7", "phys-2", "phys-9"],
                    "prompt_id": f"hb-{i:03d}",
                    "completion_id": f"c-{i}-{model_answer[:2]}",
                }
            )
    rows[-1]["binary_labels"] = [True, False]
    rows[-2]["binary_labels"] = [False, True]
    return rows
