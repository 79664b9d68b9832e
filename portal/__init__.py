"""The council portal (協議会ポータル)."""
