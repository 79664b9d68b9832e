"""Policy-coordination rooms (政策調整型): work plan, recommendations (提言) and the sectors represented."""
