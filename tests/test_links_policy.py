"""Verdict rules, host rules and expiring share links (pure functions)."""

from __future__ import annotations

import pytest

from dlg_bib.links.check import CheckOptions
from dlg_bib.links.policy import (
    DEFAULT_HOST_RULES,
    HostRule,
    host_rule,
    share_link_reason,
    verdict_for_status,
)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, "ok"),
        (204, "ok"),
        (404, "dead"),
        (410, "dead"),
        (401, "blocked"),
        (403, "blocked"),
        (999, "blocked"),
        (451, "blocked"),
        (408, "timeout"),
        (429, "error"),
        (400, "error"),
        (500, "error"),
        (503, "error"),
        (300, "error"),
    ],
)
def test_verdict_for_status(status: int, verdict: str) -> None:
    assert verdict_for_status(status) == verdict


def test_arxiv_and_crossref_keep_their_own_limits() -> None:
    assert host_rule("arxiv.org", DEFAULT_HOST_RULES) == HostRule(1, 3.0)
    assert host_rule("www.arxiv.org", DEFAULT_HOST_RULES) == HostRule(1, 3.0)
    assert host_rule("api.crossref.org", DEFAULT_HOST_RULES) == HostRule(1, 0.2)
    assert host_rule("example.org", DEFAULT_HOST_RULES) is None
    # --per-host can lower a host's limit but not raise it above the host's own rule.
    assert CheckOptions(per_host=8).rule_for("arxiv.org") == HostRule(1, 3.0)
    assert CheckOptions(per_host=8).rule_for("example.org") == HostRule(8)
    assert CheckOptions(per_host=1).rule_for("doi.org") == HostRule(1, 0.2)


@pytest.mark.parametrize(
    "url",
    [
        "https://ucm.sharepoint.com/:b:/s/dlg/EaBcD?e=xyz",
        "https://ucm-my.sharepoint.com/personal/a_ucm_edu/Documents/paper.pdf",
        "https://onedrive.live.com/?cid=123&id=456",
        "https://1drv.ms/b/s!AbCdEf",
    ],
)
def test_sharepoint_and_onedrive_links_are_flagged(url: str) -> None:
    reason = share_link_reason(url)
    assert reason is not None and "SharePoint/OneDrive" in reason


def test_signed_urls_are_flagged_and_ordinary_ones_are_not() -> None:
    assert share_link_reason(
        "https://bucket.s3.amazonaws.com/a.pdf?X-Amz-Expires=60&X-Amz-Signature=x"
    )
    assert share_link_reason("https://acct.blob.core.windows.net/c/a.pdf?se=2026-01-01&sig=abc")
    assert share_link_reason("https://arxiv.org/abs/1706.03762") is None
    assert share_link_reason("https://example.org/?signature=only") is None
