"""The profile's optional ``server:`` and ``legal:`` sections (etl/profile.py): defaults,
and mistakes reported with the field's name before anything is served."""

from __future__ import annotations

import pytest
import yaml

from etl.errors import ConfigError
from etl.profile import Legal, Server, load_profile
from tests.conftest import TINY_PROFILE


def _profile_with(tmp_path, **sections):
    data = yaml.safe_load(TINY_PROFILE.read_text(encoding="utf-8"))
    data.update(
        raw_dir=str(TINY_PROFILE.parent / data["raw_dir"]),
        indicators=str((TINY_PROFILE.parent / data["indicators"]).resolve()),
        **sections,
    )
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_profile(path)


def test_without_the_sections_the_defaults_apply():
    profile = load_profile(TINY_PROFILE)
    assert profile.server == Server()
    assert profile.server.frame_ancestors == ["'self'"] and profile.server.proxy_hops == 0
    assert profile.server.path_prefix == "/" and profile.server.max_request_bytes == 1 << 20
    assert profile.legal == Legal() and profile.legal.office_name is None


def test_sections_are_read(tmp_path):
    profile = _profile_with(
        tmp_path,
        server={
            "frame_ancestors": ["'self'", "https://www.stadt.example", "*.stadt.example"],
            "proxy_hops": 1,
            "path_prefix": "/integrationsmonitor/",
        },
        legal={"office_name": "Stadt", "conformance": "partial", "statement_date": "2026-11-30"},
    )
    assert profile.server.frame_ancestors[1] == "https://www.stadt.example"
    assert profile.server.path_prefix == "/integrationsmonitor/"
    assert profile.legal.conformance == "partial"
    assert profile.legal.statement_date.isoformat() == "2026-11-30"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"server": {"frame_ancestors": ["self"]}}, "write 'self' with its single quotes"),
        ({"server": {"frame_ancestors": ["https://a.example; script-src *"]}}, "no CSP source"),
        ({"server": {"frame_ancestors": ["'none'", "'self'"]}}, "'none' cannot be combined"),
        ({"server": {"frame_ancestors": []}}, "field 'server.frame_ancestors'"),
        ({"server": {"path_prefix": "/no-slash"}}, "field 'server.path_prefix'"),
        ({"server": {"proxy_hops": -1}}, "field 'server.proxy_hops'"),
        ({"server": {"workers": 4}}, "field 'server.workers'"),
        ({"legal": {"office": "Stadt"}}, "field 'legal.office'"),
        ({"legal": {"conformance": "mostly"}}, "field 'legal.conformance'"),
    ],
)
def test_mistakes_name_the_field(tmp_path, section, message):
    with pytest.raises(ConfigError, match=message):
        _profile_with(tmp_path, **section)
