"""What every HTTP client of dlg-bib trusts and says about itself: the CA certificates, the
proxies and the User-Agent, decided in one place for check-links (aiohttp) and the API
sources (requests) alike.

Neutral on purpose: it imports nothing of dlg-bib but its version, so any layer may use it.

- TLS: the CA bundles named by `SSL_CERT_FILE` (OpenSSL's variable) and
  `REQUESTS_CA_BUNDLE` (requests' variable), both when both are set (each is the user saying
  "trust these", and picking one would silently drop the other); with neither, the operating
  system's trust store through `truststore`, as browsers do (company and university roots
  installed by the IT department are trusted without exporting a bundle).
- The cache folder: `DLG_BIB_CACHE_DIR`, else the user cache folder (platformdirs), the
  parent of the API sources' answers and check-links' results alike.
- Proxies: `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` (either case), read once per run by
  `Proxies.from_environment()`; where none is set, the system's proxy settings (Windows
  registry, macOS System Settings) as `urllib.request.getproxies()` finds them.
"""

from __future__ import annotations

import functools
import os
import ssl
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from dlg_bib import __version__
from dlg_bib.errors import DlgBibError

PROJECT_URL = "https://github.com/dr-aheydari/DeepLearningGroup"
CA_BUNDLE_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
CACHE_ENV = "DLG_BIB_CACHE_DIR"


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The folder every cache of dlg-bib lives under. `appauthor=False`: on Windows
    `%LOCALAPPDATA%\\dlg-bib\\Cache`, not `dlg-bib\\dlg-bib\\Cache`."""
    env = os.environ if environ is None else environ
    configured = env.get(CACHE_ENV, "").strip()
    return (
        Path(configured)
        if configured
        else Path(platformdirs.user_cache_dir("dlg-bib", appauthor=False))
    )


def user_agent(*notes: str) -> str:
    """`dlg-bib/0.1.0 (https://github.com/…; note; …)`: names the project so that a site's
    operator can tell who is calling; notes add a purpose or a contact (`mailto:…`)."""
    return f"dlg-bib/{__version__} ({'; '.join([PROJECT_URL, *notes])})"


def ca_bundles(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The CA bundle files the environment names, by variable; empty for the OS trust store."""
    env = os.environ if environ is None else environ
    return {name: value for name in CA_BUNDLE_VARIABLES if (value := env.get(name, "").strip())}


def ssl_context(environ: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """The TLS context of a run, for check-links and the sources alike. A named bundle that
    cannot be read or holds no certificate is the user's error (exit 2): a typo must not
    silently trust nothing."""
    bundles = ca_bundles(environ)
    try:
        return _context(tuple(dict.fromkeys(bundles.values())))
    except (OSError, ssl.SSLError) as exc:
        named = " and ".join(f"{var}={path}" for var, path in bundles.items())
        raise DlgBibError(
            f"cannot use the CA bundle ({named}): {exc}",
            hint="point it at a PEM file of CA certificates, or unset it to use the system's",
        ) from exc


@functools.lru_cache(maxsize=4)
def _context(cafiles: tuple[str, ...]) -> ssl.SSLContext:
    # Cached: loading a trust store is slow (bench/NOTES.md), and a context is safe to share.
    # Keyed by the file names only, so a bundle rewritten in place during one process is not
    # re-read.
    if cafiles:
        context = ssl.create_default_context(cafile=cafiles[0])
        for cafile in cafiles[1:]:
            context.load_verify_locations(cafile=cafile)
        return context
    import truststore  # imported here: a cost that plain-HTTP runs never pay

    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


@dataclass(frozen=True)
class Proxies:
    """The proxy of each URL scheme, with the hosts that bypass them (`NO_PROXY`)."""

    by_scheme: Mapping[str, str] = field(default_factory=dict)  # "http"/"https" -> proxy URL
    no_proxy: str = ""  # as in NO_PROXY: "localhost,.example.org" or "*"
    from_system: bool = False  # the OS settings decide the bypass, not NO_PROXY

    @classmethod
    def from_environment(cls) -> Proxies:
        env = urllib.request.getproxies_environment()
        found = env or urllib.request.getproxies()
        return cls(
            by_scheme={k: v for k, v in found.items() if k in ("http", "https") and v},
            no_proxy=found.get("no", ""),
            from_system=not env and bool(found),
        )

    def for_url(self, url: str) -> str | None:
        """The proxy URL to send `url` through, or None for a direct connection."""
        parts = urlsplit(url)
        proxy = self.by_scheme.get(parts.scheme.lower())
        if not proxy or not parts.hostname:
            return None
        host = parts.netloc.rpartition("@")[2]  # host[:port], as NO_PROXY entries may name
        if self.from_system:
            bypass = urllib.request.proxy_bypass(host)
        else:
            # Undocumented but stable since Python 2 (what proxy_bypass uses on Linux);
            # it takes the NO_PROXY value as given instead of reading the environment again.
            bypass = self.no_proxy != "" and urllib.request.proxy_bypass_environment(  # type: ignore[attr-defined]
                host, {"no": self.no_proxy}
            )
        return None if bypass else proxy
