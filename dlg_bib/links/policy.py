"""What the answers mean: verdicts, per-host rules, expiring share links.

Pure functions and constants; the checker applies them (Retry-After is read by
`dlg_bib.retry_after`, shared with the metadata sources).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import parse_qs, urlsplit

Verdict = Literal["ok", "redirected", "dead", "blocked", "timeout", "error"]
# Order of groups in reports: what needs action first.
VERDICTS: Final[tuple[Verdict, ...]] = ("dead", "redirected", "blocked", "timeout", "error", "ok")

REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS: Final = frozenset({301, 308})
DEAD_STATUSES: Final = frozenset({404, 410})
# Answers to HEAD that do not tell whether the page exists: servers and CDNs that refuse or
# mishandle HEAD. GET decides.
HEAD_UNRELIABLE: Final = frozenset({400, 401, 403, 404, 405, 406, 410, 500, 501, 502, 999})
# Transient answers worth retrying (after Retry-After or a backoff).
RETRY_STATUSES: Final = frozenset({429, 503})
# Answers that say "client is wrong" rather than "page is gone" or "go away, robot".
ERROR_4XX: Final = frozenset({400, 408, 429})


@dataclass(frozen=True)
class HostRule:
    """A host's own published limits: connections at a time, seconds between requests."""

    max_connections: int
    min_interval: float = 0.0


# arXiv: "no more than one request every three seconds ... a single connection"
# (arxiv-docs api/tou.md). Crossref since Dec 2025: public pool 5 req/s, concurrency 1;
# doi.org hands most DOIs on to publishers, so the same pace keeps it polite.
DEFAULT_HOST_RULES: Final[dict[str, HostRule]] = {
    "arxiv.org": HostRule(1, 3.0),
    "export.arxiv.org": HostRule(1, 3.0),
    "api.crossref.org": HostRule(1, 0.2),
    "doi.org": HostRule(2, 0.2),
    "dx.doi.org": HostRule(2, 0.2),
    "archive.org": HostRule(1, 0.0),
}


def host_rule(host: str, rules: dict[str, HostRule]) -> HostRule | None:
    """The rule of `host` or of the nearest parent domain that has one (www.arxiv.org)."""
    parts = host.lower().rstrip(".").split(".")
    for i in range(len(parts)):
        rule = rules.get(".".join(parts[i:]))
        if rule is not None:
            return rule
    return None


def verdict_for_status(status: int) -> Verdict:
    """The verdict of a final (non-redirect) answer after retries."""
    if 200 <= status < 300:
        return "ok"
    if status in DEAD_STATUSES:
        return "dead"
    if 300 <= status < 400:
        return "error"  # a redirect without a usable Location
    if status == 408:
        return "timeout"
    if status in ERROR_4XX or (status >= 500 and status != 999):
        return "error"
    # 401, 403, 999 (LinkedIn), 451 and other refusals: the server is alive but refuses us.
    return "blocked"


def is_bot_challenge(headers: Mapping[str, str]) -> bool:
    """Cloudflare's bot check (403 or 503 with `cf-mitigated: challenge`): alive, refuses us."""
    return headers.get("cf-mitigated", "").strip().lower() == "challenge"


_SHARE_HOSTS: Final = ("sharepoint.com", "onedrive.live.com", "1drv.ms", "sharepoint-df.com")
# Signed URLs that stop working at a set time: S3, CloudFront, Azure SAS, Google Cloud Storage.
_SIGNED_QUERY_KEYS: Final = (
    frozenset({"x-amz-expires"}),
    frozenset({"expires", "signature"}),
    frozenset({"se", "sig"}),
    frozenset({"x-goog-expires"}),
)


def share_link_reason(url: str) -> str | None:
    """Why `url` is known to expire (SharePoint/OneDrive share link, signed URL), else None."""
    if "?" not in url and not any(h in url.lower() for h in _SHARE_HOSTS):
        return None  # the common case, without parsing: a share host's name is in its URL
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if any(host == h or host.endswith("." + h) for h in _SHARE_HOSTS):
        return "SharePoint/OneDrive share link: expires and needs a university login"
    keys = {k.lower() for k in parse_qs(parts.query, keep_blank_values=True)}
    if any(needed <= keys for needed in _SIGNED_QUERY_KEYS):
        return "signed URL with an expiry time"
    return None
