"""Search over sealed text: a blind index, filtered by the policy, confirmed against the opened text."""
