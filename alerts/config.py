"""The rules file: thresholds and levels of every rule, validated strictly, with per-community overrides.

Defaults are the CONTRACT §3 values, so no file at all means the contract. Unknown keys are refused
(``extra="forbid"``) and every error names its key (``rules.gathering.min_persons: …``), because a typo in a
threshold must stop the reload, not silently keep a default. ``overrides`` maps a community id to a partial
rule section; ``RulesConfig.rule(name, community)`` merges it over the city-wide values (cached).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

Level = Literal["red", "orange", "yellow"]


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the file and the key."""


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Run this rule")
    cooldown_s: float = Field(
        0, ge=0, description="After a clear, the same subject cannot raise again for this long"
    )


class Gathering(_Rule):
    min_persons: int = Field(10, ge=1, description="Persons in one camera zone that count as a crowd")
    hold_s: float = Field(60, ge=0, description="How long the crowd must last before the alert")
    level: Level = Field("orange", description="Alert level")
    red_at: int = Field(30, ge=1, description="Persons at which the alert turns red")
    clear_below: int = Field(8, ge=0, description="Hysteresis: the alert clears only below this count …")
    clear_hold_s: float = Field(
        30, ge=0, description="… held for this long (a count hovering at 10 never flaps)"
    )
    stale_s: float = Field(60, gt=0, description="A zone count older than this is not evidence any more")
    cooldown_s: float = Field(
        120, ge=0, description="After a clear, the zone cannot raise again for this long"
    )

    @model_validator(mode="after")
    def _order(self) -> Gathering:
        if self.clear_below > self.min_persons:
            raise ValueError("clear_below must not exceed min_persons")
        return self


class Lingering(_Rule):
    dwell_s: float = Field(120, gt=0, description="One tracked person in one zone this long")
    door_attempts: int = Field(4, ge=1, description="Events of one person at one door …")
    door_window_s: float = Field(600, gt=0, description="… within this window, none a granted 'in'")
    level: Level = Field("yellow", description="Alert level")
    clear_hold_s: float = Field(
        30, ge=0, description="A video lingering alert clears after this long without it"
    )


class KeyPersonGathering(_Rule):
    min_persons: int = Field(3, ge=2, description="Distinct watch-list persons in one community …")
    window_s: float = Field(1800, gt=0, description="… seen within this window")
    level: Level = Field("red", description="Alert level")


class KeyPersonMissing(_Rule):
    red_after_s: float = Field(86_400, gt=0, description="A red watch-list person unseen longer than this")
    orange_after_s: float = Field(
        259_200, gt=0, description="An orange watch-list person unseen longer than this"
    )
    level: Level = Field("orange", description="Alert level")


class KeyPersonHiding(_Rule):
    min_days: int = Field(3, ge=1, le=366, description="Distinct local days seen outside the home community …")
    window_days: int = Field(7, ge=1, le=366, description="… within this many local days (today included), "
                                                          "not seen at home in them")
    level: Level = Field("orange", description="Alert level")

    @model_validator(mode="after")
    def _fits(self) -> KeyPersonHiding:
        if self.min_days > self.window_days:
            raise ValueError("min_days must not exceed window_days")
        return self


class OffPost(_Rule):
    max_distance_m: float = Field(200, gt=0, description="Further than this from the post is away")
    hold_s: float = Field(300, gt=0, description="Away this long raises the alert")
    silent_s: float = Field(300, gt=0, description="No position this long raises the alert")
    level: Level = Field("yellow", description="Alert level")


class DeviceOffline(_Rule):
    camera_silent_s: float = Field(60, gt=0, description="A camera with no analysed frame this long")
    device_silent_s: float = Field(
        300, gt=0, description="Any device silent (or last-will offline) this long"
    )
    level: Level = Field("yellow", description="Alert level")


class EntranceSurge(_Rule):
    min_crossings: int = Field(30, ge=1, description="People crossing one entrance line in one direction …")
    window_s: float = Field(300, gt=0, description="… within this window")
    start: str = Field("23:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                       description="Watched from this local time (HH:MM) …")
    end: str = Field("05:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                     description="… to this one (before start = overnight; equal to start = all day)")
    level: Level = Field("yellow", description="Alert level")
    cooldown_s: float = Field(
        300, ge=0, description="After a clear, the same line cannot raise again for this long"
    )


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    gathering: Gathering = Field(default_factory=Gathering)
    lingering: Lingering = Field(default_factory=Lingering)
    key_person_gathering: KeyPersonGathering = Field(default_factory=KeyPersonGathering)
    key_person_missing: KeyPersonMissing = Field(default_factory=KeyPersonMissing)
    off_post: OffPost = Field(default_factory=OffPost)
    device_offline: DeviceOffline = Field(default_factory=DeviceOffline)
    key_person_hiding: KeyPersonHiding = Field(default_factory=KeyPersonHiding)
    entrance_surge: EntranceSurge = Field(default_factory=EntranceSurge)


class Storm(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    flap_window_s: float = Field(600, gt=0, description="Window in which raise/clear cycles are counted")
    flap_max: int = Field(
        3,
        ge=1,
        description="More cycles than this in the window = flapping: the alert is "
        "held open (no clears, no re-raises) until the window is calm",
    )


class RulesConfig(BaseModel):
    """The whole rules file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: Rules = Field(default_factory=Rules, description="City-wide thresholds and levels")
    overrides: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict, description="community_id -> {rule: {field: value}} over the city-wide values"
    )
    storm: Storm = Field(default_factory=Storm, description="Flapping detection")
    _cache: dict[tuple[str, str], Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_overrides(self) -> RulesConfig:
        for community, section in self.overrides.items():
            unknown = sorted(set(section) - set(Rules.model_fields))
            if unknown:
                raise ValueError(f"overrides.{community}.{unknown[0]}: no such rule")
            try:
                Rules.model_validate(
                    {
                        k: {**getattr(self.rules, k).model_dump(), **v} if isinstance(v, dict) else v
                        for k, v in section.items()
                    }
                )
            except ValidationError as exc:
                err = exc.errors()[0]
                key = ".".join(str(p) for p in err["loc"])
                raise ValueError(f"overrides.{community}.{key}: {err['msg']}") from None
        return self

    def rule(self, name: str, community_id: str | None = None) -> Any:
        """The effective section of one rule in one community (override merged over the city-wide one)."""
        key = (name, community_id or "")
        hit = self._cache.get(key)
        if hit is None:
            base = getattr(self.rules, name)
            over = self.overrides.get(key[1], {}).get(name)
            hit = self._cache[key] = base.model_copy(update=over) if over else base
        return hit


def parse_rules(data: Any, source: str = "rules") -> RulesConfig:
    """Validate a parsed rules document; RulesError naming ``source`` and the key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RulesError(f"{source}: top level must be a mapping")
    try:
        return RulesConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{key}: {msg}" if key else msg)
        raise RulesError(f"{source}: " + "; ".join(lines)) from None


def load_rules(path: str | Path | None) -> RulesConfig:
    """The rules in force: the file's, or the CONTRACT defaults when there is no file."""
    if path is None:
        return RulesConfig()
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"rules file {p}: {exc}") from None
    return parse_rules(data, f"rules file {p}")
