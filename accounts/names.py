"""Display names: what a person reads, so nothing that hides, reorders or controls text."""

import unicodedata

# Cc control, Cf format (bidi overrides and isolates, zero-width space/joiners, BOM, word joiner),
# Cs lone surrogates, Co private use, Cn unassigned, Zl/Zp line and paragraph separators.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def display_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a display name, or None when it can."""
    for char in name:
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            return f"Contains a control, bidi-override or invisible character (U+{ord(char):04X})."
    if name != name.strip():
        return "Must not start or end with spaces."
    return None
