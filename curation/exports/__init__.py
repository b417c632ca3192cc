"""Dataset release formats: how one curated item or review becomes lines of a JSONL or CSV file."""
