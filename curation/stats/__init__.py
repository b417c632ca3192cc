"""Statistics for curation rounds: pure numpy/scipy, no Django imports."""
