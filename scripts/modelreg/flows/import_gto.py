"""modelreg import-gto: a GTO registry (git tags) written as modelreg's registry file.

GTO keeps its registry in annotated git tags (the grammar of gto/constants.py `tag_re`):

    NAME@vX.Y.Z[#N]        a version, on the commit that holds it          (gto register)
    NAME@vX.Y.Z![#N]       that version deregistered                        (gto deprecate NAME vX.Y.Z)
    NAME#STAGE#N           STAGE assigned to the version of the tag's commit (gto assign)
    NAME#STAGE!#N          STAGE unassigned from it                         (gto deprecate NAME vX.Y.Z STAGE)
    NAME@deprecated[#N]    the whole artifact deprecated                    (gto deprecate NAME)
    NAME@created[#N]       an artifact created without a version            (ignored)

Which artifacts exist, with their path and type, GTO reads from `artifacts.yaml`
and DVC from `dvc.yaml`'s `artifacts:`; only `type: model` becomes a model here.

Each version becomes a version record read at its tagged commit: md5 and size from
`git show COMMIT:dvc.lock` (or the `.dvc` file), metrics, params and data lineage of
that commit's pipeline, the tagger as author and the tag's date as `created`, and
the sha256 of the bytes (the workspace file when its md5 matches, else fetched by
md5 from a DVC remote and verified). Tags are replayed in tagger-date order: each
change of the version GTO reports for a stage (the newest assignment still in
effect, as `gto show` reports it) becomes a history entry with the tagger as `by`
and the tag's date as `at`; GTO can keep several versions in a stage, modelreg
keeps one, and the entry's reason says which others GTO still had. Deregistrations
and deprecations become `archived`. Every entry's reason names its tag
("GTO tag NAME#STAGE#N: ..."), which makes a rerun change nothing. Tags modelreg
made itself (JSON messages) are the registry's own and are skipped.

The tags are left as they are, so GTO keeps reading them; modelreg's release
counts stage-tag counters from the highest existing one (core/tags.py) and
continues after GTO's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..adapters.registry_file import Loaded
from ..core import transitions
from ..core.formats import format_for
from ..core.problems import ModelregError, UsageError
from ..core.registry import NAME_RE, VERSION_RE, Registry

# GTO's grammar (gto/constants.py), without named groups of its own inside the names
_NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
_DIRNAME = r"[a-zA-Z0-9-_./]+"
_SEMVER = (r"(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
           r"(?:-(?:(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
           r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?")
GTO_TAG_RE = re.compile(
    rf"^(?P<artifact>(?:{_DIRNAME}=)?{_NAME})"
    rf"(?:(?:#(?P<stage>{_NAME})|@(?P<version>v{_SEMVER}))(?P<cancel>!?)|@(?P<special>deprecated|created))"
    rf"(?:#(?P<counter>[0-9]+))?$")

REGISTER, DEREGISTER, ASSIGN, UNASSIGN, DEPRECATE, CREATE = \
    "register", "deregister", "assign", "unassign", "deprecate", "create"
_RANK = {CREATE: 0, REGISTER: 1, ASSIGN: 2, UNASSIGN: 2, DEREGISTER: 3, DEPRECATE: 4}
_MARK = "GTO tag "  # every imported entry's reason starts with it: "GTO tag NAME#STAGE#N: ..."


@dataclass(frozen=True)
class GtoTag:
    """One annotated tag in GTO's grammar, with what git knows of it."""

    name: str
    artifact: str  # GTO's artifact name ("dir:name" for a dvc.yaml in a subfolder)
    action: str
    version: str | None
    stage: str | None
    counter: int | None
    commit: str
    date: int  # tagger date, unix seconds
    tagger: str
    message: str

    @property
    def at(self) -> str:
        return datetime.fromtimestamp(self.date, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def order(self) -> tuple:
        return (self.date, _RANK[self.action], self.counter or 0, self.name)

    @property
    def custom_message(self) -> str:
        """The tag's message unless it is the one GTO writes by default."""
        text = " ".join(self.message.split())
        defaults = ("Registering artifact ", "Deregistering artifact ", "Assigning stage ", "Unassigning stage ",
                    "Deprecating artifact ", "Creating artifact ")
        return "" if not text or text.startswith(defaults) else text[:300]


def parse(name: str) -> dict | None:
    """A tag name in GTO's grammar as {artifact, action, version, stage, counter}, or None."""
    match = GTO_TAG_RE.match(name)
    if not match:
        return None
    cancel = match["cancel"] == "!"
    if match["special"]:
        action = DEPRECATE if match["special"] == "deprecated" else CREATE
    elif match["version"]:
        action = DEREGISTER if cancel else REGISTER
    else:
        action = UNASSIGN if cancel else ASSIGN
    return {"artifact": match["artifact"].replace("=", ":"), "action": action, "version": match["version"],
            "stage": match["stage"], "counter": int(match["counter"]) if match["counter"] else None}


def read_tags(root: Path) -> tuple[list[GtoTag], list[str]]:
    """GTO's tags of the repository, oldest first, and notes on tags left out (lightweight, modelreg's own)."""
    from ..adapters import git
    from ..core.tags import ExistingTag

    fields = ("%(refname:strip=2)%00%(objecttype)%00%(*objectname)%00%(objectname)%00%(taggerdate:unix)%00"
              "%(taggername)%00%(contents)")
    out = git.run(["for-each-ref", "refs/tags", f"--format={fields}%01"], root)
    found, notes = [], []
    for record in out.split("\x01"):
        record = record.lstrip("\n")
        if not record:
            continue
        name, kind, peeled, obj, date, tagger, message = record.split("\x00", 6)
        parsed = parse(name)
        if parsed is None:
            continue
        if kind != "tag":
            notes.append(f"tag {name} is a lightweight tag; GTO ignores those, so does the import")
            continue
        if ExistingTag(name, peeled, int(date or 0), message.strip()).data is not None:
            continue  # modelreg's own tag: derived from the registry, nothing to import
        found.append(GtoTag(name, parsed["artifact"], parsed["action"], parsed["version"], parsed["stage"],
                            parsed["counter"], peeled, int(date or 0), tagger.strip() or "gto", message.strip()))
    found.sort(key=lambda t: t.order)
    return found, notes


# ---- replaying the tags: pure ----

@dataclass
class Op:
    kind: str  # "register", "stage", "archive"
    version: str | None  # the registry's version
    tag: GtoTag
    stage: str | None = None
    reason: str = ""


@dataclass
class Replay:
    ops: list[Op] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _names(versions: list[str]) -> str:
    return ", ".join(versions)


def replay(tags: list[GtoTag], versions: dict[str, str | None], stage_map: dict[str, str | None]) -> Replay:
    """The registry changes GTO's tags for one artifact amount to, in order.

    `versions` maps each GTO version to the registry version that records its bytes (itself; an
    earlier version with the same md5; or None when it cannot be imported); `stage_map` GTO stages
    to registry stages (None: not imported). The stage holder after each tag is the one `gto show`
    reports: of the versions whose latest event for that stage is an assignment and that are
    still registered, the one assigned last.
    """
    result = Replay()
    commits: dict[str, str] = {}  # commit -> GTO version registered there
    active: dict[str, bool] = {}
    assigned: dict[str, dict[str, int]] = {}  # registry stage -> GTO version -> order of its assignment
    holders: dict[str, str | None] = {}  # registry stage -> registry version (as the import leaves it)
    archived: set[str] = set()
    registered: set[str] = set()
    for position, tag in enumerate(tags):
        if tag.action == REGISTER and tag.version:
            commits.setdefault(tag.commit, tag.version)
            if active.get(tag.version):
                continue
            active[tag.version] = True
            target = versions.get(tag.version)
            if target is not None and target in archived:
                result.warnings.append(f"{tag.name}: {tag.version} is registered again after it was deregistered; "
                                       f"modelreg keeps {target} archived (register the bytes anew to use them)")
            if target is not None and target not in registered:
                registered.add(target)
                result.ops.append(Op("register", target, tag))
            continue
        if tag.action in (ASSIGN, UNASSIGN):
            gto_version = commits.get(tag.commit)
            if gto_version is None:
                result.warnings.append(f"tag {tag.name} names commit {tag.commit[:12]}, which has no version tag; "
                                       "modelreg needs a version there (skipped)")
                continue
            stage = stage_map.get(tag.stage or "", tag.stage)
            if stage is None:
                continue
            if tag.action == ASSIGN:
                assigned.setdefault(stage, {})[gto_version] = position
            else:
                assigned.get(stage, {}).pop(gto_version, None)
            touched = [stage]
        elif tag.action == DEREGISTER and tag.version:
            active[tag.version] = False
            touched = list(assigned)
        elif tag.action == DEPRECATE:
            for version in active:
                active[version] = False
            touched = list(assigned)
        else:
            continue
        for stage in touched:
            live = {v: at for v, at in assigned.get(stage, {}).items() if active.get(v)}
            newest = max(live, key=lambda v: live[v]) if live else None
            target = versions.get(newest) if newest else None
            if newest is not None and target is None:
                result.warnings.append(f"{tag.name}: GTO's {stage} version {newest} is not imported; {stage} is "
                                       "left as it was")
                continue
            if target is not None and target in archived:
                result.warnings.append(f"{tag.name}: GTO puts {newest} in {stage}, but it is deprecated; "
                                       f"{stage} is left as it was")
                continue
            if holders.get(stage) == target:
                continue
            others = sorted({versions.get(v) or v for v in live if v != newest} - {target})
            if tag.action == ASSIGN and newest == commits.get(tag.commit):
                what = f"{tag.stage} assigned to {newest}" + (f" (modelreg's {target})" if target != newest else "")
                if others:
                    what += (f"; GTO also keeps {_names(others)} in {tag.stage}, modelreg keeps one version per "
                             "stage: the newest assignment")
            elif target is None:
                what = f"{_describe(tag)}; no version is left in {tag.stage or stage}"
            else:
                what = (f"{_describe(tag)}; GTO's newest assignment of {stage} still in effect is {newest}, so "
                        f"{target} holds it again")
            if tag.custom_message:
                what += f" (tag message: {tag.custom_message})"
            holders[stage] = target
            result.ops.append(Op("stage", target, tag, stage, f"{_MARK}{tag.name}: {what}"))
        if tag.action in (DEREGISTER, DEPRECATE):
            gone = [tag.version] if tag.action == DEREGISTER else [v for v in versions if v in active]
            for gto_version in gone:
                target = versions.get(gto_version or "")
                if target is None or target in archived or target in holders.values():
                    continue
                if any(active.get(v) for v, t in versions.items() if t == target):
                    continue  # another GTO version with the same bytes is still registered
                archived.add(target)
                verb = "deregistered" if tag.action == DEREGISTER else "deprecated (the whole artifact)"
                reason = f"{_MARK}{tag.name}: {verb} by {tag.tagger} at {tag.at}"
                if tag.custom_message:
                    reason += f" (tag message: {tag.custom_message})"
                result.ops.append(Op("archive", target, tag, reason=reason))
    return result


def _describe(tag: GtoTag) -> str:
    if tag.action == ASSIGN:
        return f"{tag.stage} assigned to the version at {tag.commit[:12]}, which is not registered any more"
    if tag.action == UNASSIGN:
        return f"{tag.stage} unassigned"
    if tag.action == DEREGISTER:
        return f"{tag.version} deregistered"
    return "the artifact deprecated"


def imported_tags(model_raw: dict) -> set[str]:
    """GTO tags the registry's history and archive reasons already record (what makes a rerun a no-op)."""
    found = set()
    texts = [e.get("reason") for e in model_raw.get("history") or [] if isinstance(e, dict)]
    texts += [r.get("archived") for r in (model_raw.get("versions") or {}).values() if isinstance(r, dict)]
    for text in texts:
        if isinstance(text, str) and text.startswith(_MARK):
            found.add(text[len(_MARK):].split(":", 1)[0])
    return found


def apply(data: dict, name: str, replayed: Replay, records: dict[str, dict], fields: dict) -> tuple[dict, list[str]]:
    """The registry data with the replayed changes that are not there yet; and what was done, in words."""
    new = data
    done: list[str] = []
    model = Registry(new).model(name)
    already = imported_tags(model.raw) if model else set()
    for op in replayed.ops:
        model = Registry(new).model(name)
        if op.kind == "register":
            if model is not None and op.version in (model.raw.get("versions") or {}):
                continue
            assert op.version is not None
            new = transitions.add_version(new, name, op.version, records[op.version], fields)
            done.append(f"{name} {op.version}: registered (tag {op.tag.name}, md5 {records[op.version]['md5']})")
        elif op.kind == "archive":
            record = model.version(op.version) if model and op.version else None
            if record is None or record.archived or op.tag.name in already:
                continue
            new = transitions.archive(new, name, op.version, op.reason)
            done.append(f"{name} {op.version}: archived (tag {op.tag.name})")
        else:
            if op.tag.name in already or model is None:
                continue
            assert op.stage is not None
            if model.stages.get(op.stage) == op.version:
                continue
            new = transitions.set_stage(new, name, op.stage, op.version, op.reason, op.tag.tagger, at=op.tag.at)
            done.append(f"{name}: {op.stage} -> {op.version or 'nothing'} (tag {op.tag.name}, by {op.tag.tagger} "
                        f"at {op.tag.at})")
    return new, done


# ---- reading the repository at the tagged commits ----

def _reader(root: Path, commit: str) -> Callable[[str], str | None]:
    from ..adapters import git

    cache: dict[str, str | None] = {}

    def read(relative: str) -> str | None:
        if relative not in cache:
            cache[relative] = git.show_file(commit, relative, root)
        return cache[relative]

    return read


def _artifacts(read: Callable[[str], str | None]) -> dict[str, dict]:
    """GTO's artifacts.yaml and dvc.yaml's artifacts:, as name -> {path, type, description}."""
    from ..core import yamlread

    found: dict[str, dict] = {}
    for file, desc_key in (("artifacts.yaml", "description"), ("dvc.yaml", "desc")):
        text = read(file)
        if not text:
            continue
        try:
            data = yamlread.load(text, file)[0]
        except ModelregError:
            continue
        section = data.get("artifacts") if file == "dvc.yaml" and isinstance(data, dict) else data
        for key, spec in (section.items() if isinstance(section, dict) else ()):
            if isinstance(spec, dict):
                found.setdefault(str(key), {"path": spec.get("path"), "type": spec.get("type"),
                                            "description": spec.get(desc_key) or spec.get("description")})
    return found


def stage_mapping(pairs: list[str]) -> dict[str, str | None]:
    """--stage GTO=MODELREG options as a mapping (an empty right side leaves that stage out)."""
    mapping: dict[str, str | None] = {}
    for pair in pairs:
        gto_stage, sep, ours = pair.partition("=")
        if not sep or not gto_stage.strip():
            raise UsageError(f"--stage {pair!r}: write GTO_STAGE=STAGE (e.g. prod=production), or GTO_STAGE= to "
                             "leave it out")
        mapping[gto_stage.strip()] = ours.strip() or None
    return mapping


@dataclass
class Prepared:
    """What the tags amount to, per model, read and hashed; applying it is pure (see `step`)."""

    models: list[tuple[str, Replay, dict[str, dict], dict]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)

    def step(self, data: dict) -> dict:
        """The registry data with every change not there yet (a pure transition for flows.change)."""
        self.done = []
        for name, replayed, records, fields in self.models:
            data, done = apply(data, name, replayed, records, fields)
            self.done += done
        return data


def prepare(loaded: Loaded, wanted: list[str], stage_map: dict[str, str | None], remote: str = "registry",
            say: Callable[[str], None] = print) -> Prepared:
    """Read GTO's tags and, for each model, its versions at their commits (md5, size, sha256, metrics,
    params, lineage). Refuses before fetching anything when a stage is neither configured nor mapped."""
    from ..adapters import dvcfiles

    root = loaded.repo
    tags, notes = read_tags(root)
    registry = Registry(loaded.data)
    by_artifact: dict[str, list[GtoTag]] = {}
    for tag in tags:
        by_artifact.setdefault(tag.artifact, []).append(tag)
    unknown_wanted = [n for n in wanted if n not in by_artifact]
    if unknown_wanted:
        raise ModelregError(f"no GTO tags for {', '.join(unknown_wanted)} (tagged: "
                            f"{', '.join(sorted(by_artifact)) or 'none'})")
    prepared = Prepared(notes=notes)
    names = [n for n in sorted(by_artifact) if not wanted or n in wanted]
    configured = set(registry.stage_names)
    missing = sorted({stage_map.get(t.stage, t.stage) for n in names for t in by_artifact[n] if t.stage}
                     - configured - {None})
    if missing:
        raise ModelregError(f"GTO's tags use stage(s) {', '.join(missing)} that the registry does not configure "
                            f"({', '.join(registry.stage_names)}): map them, e.g. --stage {missing[0]}=production, "
                            "leave one out with --stage NAME=, or add them to settings.stages")
    head = _artifacts(dvcfiles.workspace(root))
    for name in names:
        if not NAME_RE.match(name):
            prepared.notes.append(f"skipped GTO artifact {name!r}: not a registry name (lowercase letters, digits, "
                                  "dashes); register it under a registry name with modelreg register")
            continue
        artifact_tags = by_artifact[name]
        model = registry.model(name)
        spec = head.get(name) or _first_spec(root, name, artifact_tags)
        if model is None and (spec is None or spec.get("type") != "model"):
            kind = f"type {spec.get('type')}" if spec and spec.get("type") else "no type: model"
            prepared.notes.append(f"skipped GTO artifact {name}: {kind} in artifacts.yaml / dvc.yaml, not a model")
            continue
        path = model.path if model else (spec or {}).get("path")
        if not path:
            prepared.notes.append(f"skipped GTO artifact {name}: no path in artifacts.yaml / dvc.yaml (a virtual "
                                  "artifact); modelreg registers DVC-tracked files")
            continue
        fields = {**({"description": spec["description"]} if spec and spec.get("description") and not model
                     else {}), "path": path, "format": (model.format if model else None) or format_for(path)}
        versions, records = _versions(root, name, path, artifact_tags, model, remote, say, prepared.notes)
        replayed = replay(artifact_tags, versions, stage_map)
        prepared.notes += replayed.warnings
        prepared.models.append((name, replayed, records, fields))
    return prepared


@dataclass
class Imported:
    changed: bool
    done: list[str]
    notes: list[str]
    commit: str | None = None


def run(loaded: Loaded, wanted: list[str], stage_map: dict[str, str | None], remote: str = "registry",
        mode: str = "write", say: Callable[[str], None] = print) -> Imported:
    """Import GTO's registry into the loaded registry file through the one write path (flows.change)."""
    from ..adapters import git
    from . import change

    prepared = prepare(loaded, wanted, stage_map, remote, say)
    new = change.transition(loaded, prepared.step)
    if new == loaded.data:
        return Imported(False, [], prepared.notes)
    models = sorted({name for name, *_ in prepared.models})
    intent = change.Intent("import", ", ".join(models), "", "Import models from GTO tags",
                           f"{len(prepared.done)} changes from GTO's tags: " + "; ".join(prepared.done[:20]),
                           git.user(loaded.repo))
    outcome = change.apply(loaded, new, intent, mode=mode)
    return Imported(True, prepared.done, prepared.notes, outcome.commit)


def _first_spec(root: Path, name: str, tags: list[GtoTag]) -> dict | None:
    """The artifact's spec at its newest tagged commit that declares it (it may be gone from HEAD)."""
    for tag in reversed(tags):
        spec = _artifacts(_reader(root, tag.commit)).get(name)
        if spec:
            return spec
    return None


def _versions(root: Path, name: str, path: str, tags: list[GtoTag], model, remote: str,
              say: Callable[[str], None], notes: list[str]) -> tuple[dict[str, str | None], dict[str, dict]]:
    """GTO version -> registry version (None: not imported), and the records of those to register."""
    from ..adapters import dvcfiles

    versions: dict[str, str | None] = {}
    records: dict[str, dict] = {}
    by_md5: dict[str, str] = {}
    existing = {} if model is None else {v: r for v, r in (model.raw.get("versions") or {}).items()
                                         if isinstance(r, dict)}
    for version, record in existing.items():
        by_md5.setdefault(record.get("md5"), version)
    for tag in tags:
        if tag.action != REGISTER or not tag.version or tag.version in versions:
            continue
        version = tag.version
        if not VERSION_RE.match(version):
            notes.append(f"skipped {name} {version} (tag {tag.name}): modelreg versions are vX.Y.Z, without "
                         "pre-release or build parts")
            versions[version] = None
            continue
        read = _reader(root, tag.commit)
        out = dvcfiles.find_out(root, path, read("dvc.lock") or "", read(f"{path.rstrip('/')}.dvc") or "")
        if out is None:
            notes.append(f"skipped {name} {version} (tag {tag.name}): commit {tag.commit[:12]} has no DVC record "
                         f"of {path} (GTO can tag files kept in git; modelreg registers DVC-tracked ones: dvc add "
                         "it and register a new version)")
            versions[version] = None
            continue
        if version in existing:
            if existing[version].get("md5") != out.md5:
                notes.append(f"skipped {name} {version} (tag {tag.name}): the registry has {version} with md5 "
                             f"{existing[version].get('md5')}, GTO's commit {tag.commit[:12]} records {out.md5}")
                versions[version] = None
            else:
                versions[version] = version
            continue
        if out.md5 in by_md5:
            same = by_md5[out.md5]
            notes.append(f"{name} {version} (tag {tag.name}) is the same artifact (md5 {out.md5}) as {same}: "
                         f"modelreg records the bytes once, so its stage changes are recorded on {same}")
            versions[version] = same
            continue
        say(f"reading {name} {version} at {tag.commit[:12]} (tag {tag.name})")
        record = {"md5": out.md5, "sha256": _sha256(root, path, out, remote, f"{name} {version}"),
                  "size": out.size if out.size is not None else 0, "commit": tag.commit, "created": tag.at,
                  "author": tag.tagger}
        spec_text = read("dvc.yaml")
        from ..core import yamlread

        spec = (yamlread.load(spec_text, "dvc.yaml")[0] if spec_text else None) or {}
        files = dvcfiles.metrics_files(root, name, spec=spec if isinstance(spec, dict) else {}, path=path)
        present = [f for f in files if read(f) is not None]
        metrics = dvcfiles.metrics_from(read, present) if present else {}
        if metrics:
            record["metrics"] = metrics
        traced = dvcfiles.lineage(read, path)
        if traced.params:
            record["params"] = traced.params
        if traced.data:
            record["data"] = traced.data
        if tag.custom_message:
            record["notes"] = tag.custom_message
        records[version] = record
        versions[version] = version
        by_md5[out.md5] = version
    return versions, records


def _sha256(root: Path, path: str, out, remote: str, what: str) -> str:
    """The sha256 of the bytes: the workspace file when its md5 is the recorded one, else fetched by md5."""
    from ..adapters import dvc

    target = root / path
    if target.is_file() and not out.md5.endswith(".dir"):
        sha256, md5 = dvc.local_sha256(target)
        if md5 == out.md5:
            return sha256
    try:
        return dvc.digest(root, out.md5, remote, out.size)
    except ModelregError as error:
        raise ModelregError(f"{what}: cannot hash its bytes ({out.md5}): {error.problems[0].message}. Push them "
                            f"from the GTO era (git checkout the tag's commit, dvc pull, dvc push -r {remote}), "
                            "or name the remote that holds them with --remote") from None
