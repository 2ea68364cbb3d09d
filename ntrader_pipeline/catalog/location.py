"""Where the catalog lives: a local directory or an object-store URL (`s3://bucket/prefix`).

Object-store credentials and endpoint come from the standard AWS variables (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION / AWS_DEFAULT_REGION, AWS_ENDPOINT_URL for an
S3-compatible server), never from the URL, so they stay out of run config and the UI.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from upath import UPath

# fsspec (s3fs) option ← variable; Nautilus' Rust reader (object_store) wants its own key names.
_RUST_S3_OPTIONS = {
    "access_key_id": "AWS_ACCESS_KEY_ID",
    "secret_access_key": "AWS_SECRET_ACCESS_KEY",
    "session_token": "AWS_SESSION_TOKEN",
    "region": "AWS_REGION",
    "endpoint_url": "AWS_ENDPOINT_URL",
}


@dataclass(frozen=True)
class CatalogLocation:
    protocol: str  # "file" for a local directory
    root: str  # without the protocol: "/abs/dir" or "bucket/prefix"
    # Kept out of repr(): they can hold AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, and a repr ends up in logs.
    storage_options: dict[str, str] = field(default_factory=dict, repr=False)  # fsspec
    rust_storage_options: dict[str, str] = field(default_factory=dict, repr=False)  # Nautilus' Rust reader

    @classmethod
    def parse(cls, value: Path | str, environ: Mapping[str, str] = os.environ) -> CatalogLocation:
        text = str(value)
        if "://" not in text or text.startswith("file://"):
            return cls("file", str(Path(text.removeprefix("file://")).resolve()))
        protocol, _, root = text.partition("://")
        root = root.strip("/")
        if not root:
            raise ValueError(f"catalog URL {text!r} names no bucket; use e.g. s3://bucket/prefix")
        if protocol not in ("s3", "s3a"):
            return cls(protocol, root)  # gs://, az://: the library's own defaults and environment
        env = dict(environ)
        env.setdefault("AWS_REGION", env.get("AWS_DEFAULT_REGION", ""))
        rust = {key: env[var] for key, var in _RUST_S3_OPTIONS.items() if env.get(var)}
        options = {}
        if endpoint := env.get("AWS_ENDPOINT_URL"):
            options["endpoint_url"] = endpoint
            if endpoint.startswith("http://"):
                rust["allow_http"] = "true"
        return cls("s3", root, options, rust)

    @property
    def is_local(self) -> bool:
        return self.protocol == "file"

    def path(self) -> Path:
        """The root as a path object: `pathlib.Path` locally, a `UPath` (same API) on object stores."""
        if self.is_local:
            return Path(self.root)
        return UPath(f"{self.protocol}://{self.root}", **self.storage_options)

    def __str__(self) -> str:
        return self.root if self.is_local else f"{self.protocol}://{self.root}"
