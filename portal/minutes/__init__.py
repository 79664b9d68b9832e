"""Minutes of a meeting: portion-marked parts taken through review, approval and publication."""
