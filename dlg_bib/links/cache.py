"""Results kept on disk between runs, so a weekly check only re-checks what may have changed.

Only `ok` and `redirected` results are reused, and only while fresh: a dead, blocked or
failing link is always checked again. Each URL's lifetime is spread between 3/4 and all of
the TTL (by a hash of the URL), so links checked together do not all expire in the same run.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from dlg_bib import transport
from dlg_bib.links.check import LinkResult

CACHE_ENV = transport.CACHE_ENV
CACHE_FILE = "links.json"
DEFAULT_TTL = 14 * 24 * 3600.0
REUSABLE = frozenset({"ok", "redirected"})
_FORMAT = 1


def lifetime(url: str, ttl: float) -> float:
    """How long a result for `url` stays fresh: 75-100 % of the TTL, fixed per URL."""
    digest = hashlib.sha256(url.encode("utf-8")).digest()
    spread = int.from_bytes(digest[:4], "big") / 2**32
    return ttl * (0.75 + 0.25 * spread)


class LinkCache:
    def __init__(
        self,
        directory: Path | None = None,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
    ):
        self.path = (directory or transport.cache_dir()) / CACHE_FILE
        self.ttl = ttl
        self._clock = clock
        self._results: dict[str, dict[str, Any]] = self._load()

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # no cache or a broken one: check everything
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return {}
        results = data.get("results")
        return results if isinstance(results, dict) else {}

    def fresh(self, url: str) -> LinkResult | None:
        """A reusable result for `url` younger than its lifetime, else None."""
        data = self._results.get(url)
        if not isinstance(data, dict) or data.get("verdict") not in REUSABLE:
            return None
        age = self._clock() - float(data.get("checked_at", 0.0))
        if not 0 <= age < lifetime(url, self.ttl):
            return None
        try:
            result = LinkResult.from_dict(data)
        except TypeError:
            return None
        result.cached = True
        return result

    def store(self, results: Iterable[LinkResult]) -> None:
        for result in results:
            if result.cached:
                continue
            if result.verdict not in REUSABLE:
                self._results.pop(result.url, None)
                continue
            data = result.to_dict()
            data.pop("cached", None)
            self._results[result.url] = data

    def _prune(self) -> None:
        # URLs that left the database would otherwise stay in the file forever.
        now = self._clock()
        self._results = {
            url: data
            for url, data in self._results.items()
            if now - float(data.get("checked_at", 0.0)) < self.ttl
        }

    def save(self) -> None:
        """Write atomically; a cache that cannot be written only costs time next run."""
        self._prune()
        # Compact: the C encoder only runs without indent, and nobody reads this file.
        payload = json.dumps(
            {"format": _FORMAT, "results": self._results}, sort_keys=True, separators=(",", ":")
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".links-", suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.replace(tmp, self.path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
