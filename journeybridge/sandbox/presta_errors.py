"""How the PrestaShop 8.1.2 Webservice fails: error lists, "did you mean" hints, PHP warnings.

A failing request answers a list of ``(code, message)`` errors with one final status; list
queries with refused parameters also carry the PHP warnings the real shop leaks, naming its
source file.
"""

from __future__ import annotations

from collections.abc import Sequence

#: The source file a real 8.1.2 shop's PHP warnings name.
SOURCE_FILE = "/var/www/html/classes/webservice/WebserviceRequest.php"


class WsError(Exception):
    """One or more Webservice errors ending a request; ``status`` is the final status."""

    def __init__(self, status: int, errors: Sequence[tuple[int, str]]) -> None:
        super().__init__(errors[0][1] if errors else "")
        self.status = status
        self.errors = list(errors)


def closest(word: str, candidates: Sequence[str]) -> str:
    """The candidate with the smallest Levenshtein distance (ties: the later one)."""
    best, best_d = "", -1
    for cand in candidates:
        d = _levenshtein(word, cand)
        if d == 0:
            return cand
        if best_d < 0 or d <= best_d:
            best, best_d = cand, d
    return best


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def did_you_mean(label: str, value: str, available: Sequence[str]) -> str:
    """The message of a "did you mean" error."""
    text = f'{label}. Did you mean: "{closest(value, available)}"?'
    if len(available) > 1:
        text += ' The full list is: "' + '", "'.join(available) + '"'
    return text


def list_warnings() -> list[tuple[int, str]]:
    """The PHP warnings an 8.1.2 shop appends when a list query's parameters were refused."""
    return [(3, "[PHP Warning #2] Trying to access array offset on value of type bool "
                f"({SOURCE_FILE}, line {line})") for line in (1333, 1334, 1335, 1336)]
