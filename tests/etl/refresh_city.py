"""A small city for the refresh tests: the tiny fixture's areas, register extracts written
from hand-chosen counts, and a reduced indicator catalogue (fast builds).

Districts 11 and 12 form borough 1, district 21 borough 2, all in city 0.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.conftest import REPO, TINY_PROFILE

INDICATORS = [
    "population",
    "foreigner_share",
    "migration_background_share",
    "age_under_18_share",
    "segregation_is_foreigners",
]
HEADER = (
    "personen_id;stadtteil;geburtsjahr;geschlecht;staatsangehoerigkeit_1;"
    "staatsangehoerigkeit_2;geburtsland;zuzugsjahr;eingebuergert;spaetaussiedler;"
    "haushalt_id;stellung_im_haushalt"
)


def extract(counts: dict[str, tuple[int, int]]) -> str:
    """Register extract text: per district (residents, of whom foreigners); everyone lives
    alone, Germans born in Germany, foreigners Turkish citizens who arrived in 2010."""
    lines = [HEADER]
    for district, (residents, foreigners) in counts.items():
        for i in range(residents):
            pid = f"P{district}{i:04d}"
            if i < foreigners:
                lines.append(f"{pid};{district};1980;m;TR;;TR;2010;0;0;H{pid};HV")
            else:
                lines.append(f"{pid};{district};1980;w;DE;;DE;;0;0;H{pid};HV")
    return "\n".join(lines) + "\n"


def write_delivery(
    folder: Path, ref_date: str, counts: dict[str, tuple[int, int]], name: str | None = None
) -> Path:
    """A delivered extract (outside the raw folder) named melderegister_<date>.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"melderegister_{ref_date}.csv")
    path.write_text(extract(counts), encoding="utf-8")
    return path


def catalogue(path: Path) -> Path:
    """indicators.yaml reduced to INDICATORS, without random-allocation draws."""
    spec = yaml.safe_load((REPO / "indicators.yaml").read_text(encoding="utf-8"))
    spec["indicators"] = [i for i in spec["indicators"] if i["id"] in INDICATORS]
    if "random_allocation" in spec:
        spec["random_allocation"] = {**spec["random_allocation"], "draws": 0}
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def make_city(root: Path, base: dict[str, dict[str, tuple[int, int]]], **profile_changes) -> Path:
    """raw/ (areas + one extract per date of ``base``), curated/, profile.yaml; returns the
    profile's path. Nothing is built."""
    raw = root / "raw"
    shutil.copytree(TINY_PROFILE.parent / "raw" / "gebiete", raw / "gebiete")
    for ref_date, counts in base.items():
        write_delivery(raw / "melderegister" / ref_date, ref_date, counts)
    profile = yaml.safe_load(TINY_PROFILE.read_text(encoding="utf-8"))
    profile.update(
        raw_dir=str(raw),
        curated_dir=str(root / "curated"),
        indicators=str(catalogue(root / "indicators.yaml")),
        keep_snapshots=3,
        **profile_changes,
    )
    path = root / "profile.yaml"
    path.write_text(yaml.safe_dump(profile, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
