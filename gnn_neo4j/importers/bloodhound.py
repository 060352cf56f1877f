"""Import a SharpHound collection (BloodHound CE JSON, format v5 and v6): files in, `PropertyGraph` out.

Nothing is written anywhere: `read_bloodhound` returns a graph that the loader writes, or raises
`GraphImportError` before anything is returned, so an import is all-or-nothing.

Input
    A SharpHound ZIP, a directory of its JSON files (searched recursively), or one JSON file. Each file is
    ``{"data": [...], "meta": {"type": ..., "count": ..., "version": ...}}``; ``meta.type`` decides what the
    entries are, never the file name. Files processed in name order; members that are not ``.json`` are
    skipped and counted. ``meta.version`` 5 and 6 are read; older versions are refused, newer ones are read
    with a warning. ``meta.type`` ``sites``/``siteservers``/``sitesubnets`` (newer SharpHound) are skipped
    and counted; any other unknown type is an error. ``meta.count`` differing from the number of entries is
    a warning (the sample collection has such files).

Nodes
    ``(:Asset:<Kind> {id})`` with Kind from ``meta.type``: User, Group, Computer, Domain, OU, GPO, Container,
    CertTemplate, EnterpriseCA, RootCA, AIACA, NTAuthStore, IssuancePolicy. ``id`` = ``objectid`` = the
    upper-cased ObjectIdentifier (SID or GUID). Properties are SharpHound's ``Properties`` with names
    lower-cased to identifiers (``name``, ``domain``, ``enabled``, ``admincount``, ``hasspn``,
    ``dontreqpreauth``, ``unconstraineddelegation``, ``pwdneverexpires``, ``lastlogontimestamp``,
    ``operatingsystem``, ``highvalue`` where collected, ...); null and empty lists are not written; lists of
    one primitive type are kept; objects are flattened one level (``parent_child``); anything else (nested or
    mixed lists) is dropped and counted. Password attributes (``userpassword``, ``unixpassword``,
    ``unicodepassword``, ``sfupassword``) are never copied: only ``has_<name> = true`` when one is set. Added:
    ``type`` (the Kind), ``placeholder`` (false), ``critical``, ``critical_reason``, ``entry_point``;
    computers get ``isdc`` from the v6 ``IsDC`` field, enterprise CAs get ``isuserspecifiessanenabled``,
    ``roleseparationenabled`` and ``hasenrollmentagentrestrictions`` from ``CARegistryData`` when collected.
    Entries with ``IsDeleted: true`` are skipped and counted. The same ObjectIdentifier in several entries
    (SharpHound writes stub copies of well-known groups, and Configuration containers appear in every
    domain's collection) is merged: properties are united, the first value wins a conflict, relationships
    from every copy are kept; merges and conflicts are counted. The same id with two different kinds is an
    error.

Placeholders
    A relationship may name an object that was not collected (another domain, a well-known principal). It
    becomes ``(:Asset:<Kind> {id, objectid, placeholder: true})`` with Kind from the reference
    (``PrincipalType``/``ObjectType``, or what the relationship implies, e.g. a session's user is a User) or
    ``Base`` when unknown (then ``object_type`` keeps the reference's type name); trusted domains get their
    ``name``. Placeholders are counted per kind in the report.

Relationships (BloodHound's names; source -> target)
    - ACEs: one edge per ``Aces`` entry, named by ``RightName`` (GenericAll, GenericWrite, WriteOwner,
      WriteDacl, Owns, AllExtendedRights, ForceChangePassword, AddMember, AddSelf, AddKeyCredentialLink,
      ReadLAPSPassword, ReadGMSAPassword, WriteSPN, WriteAccountRestrictions, AddAllowedToAct, GetChanges,
      GetChangesAll, GetChangesInFilteredSet, Enroll, ManageCA, ManageCertificates, WritePKI*Flag, ... as
      collected), principal -> object, with ``is_inherited``. As in BloodHound, an ACE granting an object
      rights on itself is skipped (counted). Owns and WriteOwner keep their collected names (BloodHound CE
      post-processes them into OwnsRaw/OwnsLimitedRights/WriteOwnerRaw; this importer does no such
      post-processing). For an enterprise CA whose ``CARegistryData.CASecurity`` was collected, the CA's
      own security descriptor is authoritative for ManageCA/ManageCertificates/Enroll (its Owns entry is
      ignored), as in BloodHound.
    - ``DCSync`` principal -> domain where the same principal holds both ``GetChanges`` and
      ``GetChangesAll`` on the domain object DIRECTLY (rights held through group membership are not
      combined; BloodHound CE does combine them). The GetChanges/GetChangesAll edges are kept too.
    - ``MemberOf`` member -> group from ``Members``, and user/computer -> ``PrimaryGroupSID`` with
      ``is_primary_group = true``.
    - ``HasSession`` computer -> user from ``Sessions``, ``PrivilegedSessions`` and ``RegistrySessions``
      (only where ``Collected``).
    - ``AdminTo``, ``CanRDP``, ``ExecuteDCOM``, ``CanPSRemote`` principal -> computer: the direct members of
      the computer's local Administrators (-544), Remote Desktop Users (-555), Distributed COM Users (-562)
      and Remote Management Users (-580) groups (v6 ``LocalGroups``, v5 ``LocalAdmins``/
      ``RemoteDesktopUsers``/``DcomUsers``/``PSRemoteUsers``), ``via_gpo = false``; and the same from
      ``GPOChanges`` of domains/OUs for each affected computer, ``via_gpo = true``. Nested membership is not
      expanded (the MemberOf edges carry it). Machine-local members (LocalUser/LocalGroup) and other local
      groups are skipped and counted. ``RemoteInteractiveLogonRight`` principal -> computer from the
      ``SeRemoteInteractiveLogonRight`` user right.
    - ``AllowedToDelegate`` account -> target, ``AllowedToAct`` actor -> computer, ``HasSIDHistory``
      principal -> SID-history principal, ``DumpSMSAPassword`` computer -> service account, SPN targets
      (e.g. ``SQLAdmin``) user -> computer with ``port``.
    - ``Contains`` container/OU/domain -> child from ``ChildObjects`` and ``ContainedBy``; ``GPLink`` GPO ->
      OU/domain with ``enforced``.
    - Trusts, BloodHound CE v6 style (not the legacy ``TrustedBy``): ``SameForestTrust`` (ParentChild,
      TreeRoot, CrossLink) or ``CrossForestTrust`` (External, Forest, other) from the TRUSTING domain to
      the TRUSTED domain, with ``trust_type``, ``transitive``, ``sid_filtering_enabled``; plus
      ``SpoofSIDHistory`` trusted -> trusting for a cross-forest trust without SID filtering (forged SID
      history is accepted), and ``AbuseTGTDelegation`` trusting -> trusted for a cross-forest trust with TGT
      delegation (a delegation host in the trusting domain captures the trusted domain's DC tickets).
    - ``DCFor`` domain controller -> its domain; ``CoerceToTGT`` non-DC account with unconstrained
      delegation -> its domain; ADCS structure ``PublishedTo`` template -> CA, ``HostsCAService`` computer ->
      CA, ``RootCAFor``/``NTAuthStoreFor`` -> domain. ADCS escalation edges (ESC1..., GoldenCert) need
      BloodHound's post-processing and are not derived.
    A relationship repeated with the same type, source and target (e.g. a session seen by two collection
    methods) is kept once (first properties win) and counted as merged; ``Contains`` from ``ChildObjects``
    and ``ContainedBy`` therefore appear once.

Crown jewels: ``critical = true`` (Tier Zero), with ``critical_reason``
    Domain Admins (-512), Domain Controllers (-516), Schema Admins (-518), Enterprise Admins (-519) and
    Administrators (S-1-5-32-544, also domain-prefixed) groups, the krbtgt account (-502), every domain,
    domain controllers (v6 ``IsDC``/``isdc``, primary group -516, member of -516, or the
    SERVER_TRUST_ACCOUNT bit of ``useraccountcontrol``; read-only DCs are not included), and objects with
    ``highvalue = true`` or an ``admin_tier_0`` system tag. Placeholders qualify by SID and kind too.

Entry points: ``entry_point = true`` (rule chosen with ``entry_point_rule``)
    ``roastable`` (default): enabled, collected users whose password hash an attacker can take offline to
    crack: AS-REP roastable (``dontreqpreauth``, needs no credential) or Kerberoastable (``hasspn``, needs
    any domain account), excluding (g)MSA accounts whose generated passwords do not crack. Treating every
    enabled user as an entry point makes every path "reachable" and the ranking meaningless.
    ``assume_breach``: ``roastable`` plus the groups every domain account is in (Domain Users -513, Domain
    Computers -515, Authenticated Users S-1-5-11, Everyone S-1-1-0), BloodHound's classic "from Domain
    Users" question. ``enabled_users``: every enabled collected user (broad; for comparison).
    The built-in ``bloodhound`` mapping reads ``entry_point``/``critical``; a mapping may instead point
    ``entry_points`` at any imported property (e.g. ``dontreqpreauth``).
"""

from __future__ import annotations

import logging
import math
import re
import time
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from gnn_neo4j.graph import EdgeSet, NodeSet, PropertyGraph
from gnn_neo4j.importers.errors import GraphImportError, ImportReport, json_pointer
from gnn_neo4j.importers.json_format import (
    INT64_MAX,
    INT64_MIN,
    decode_json,
    object_column,
    property_columns,
    read_bytes,
)
from gnn_neo4j.mapping import IDENTIFIER

log = logging.getLogger(__name__)

KEY_LABEL = "Asset"
PLACEHOLDER_KIND = "Base"
KINDS_BY_TYPE = {
    "users": "User", "groups": "Group", "computers": "Computer", "domains": "Domain", "ous": "OU",
    "gpos": "GPO", "containers": "Container", "certtemplates": "CertTemplate", "enterprisecas": "EnterpriseCA",
    "rootcas": "RootCA", "aiacas": "AIACA", "ntauthstores": "NTAuthStore", "issuancepolicies": "IssuancePolicy",
}
KINDS = (*KINDS_BY_TYPE.values(), PLACEHOLDER_KIND)
UNMODELLED_TYPES = frozenset({"sites", "siteservers", "sitesubnets"})
SUPPORTED_VERSIONS = (5, 6)
ENTRY_POINT_RULES = ("roastable", "assume_breach", "enabled_users")

LOCAL_PRINCIPAL_TYPES = frozenset({"LocalUser", "LocalGroup"})
LOCAL_GROUP_EDGES = {"544": "AdminTo", "555": "CanRDP", "562": "ExecuteDCOM", "580": "CanPSRemote"}
V5_LOCAL_GROUP_FIELDS = {
    "LocalAdmins": "AdminTo", "RemoteDesktopUsers": "CanRDP", "DcomUsers": "ExecuteDCOM",
    "PSRemoteUsers": "CanPSRemote",
}
USER_RIGHT_EDGES = {"SeRemoteInteractiveLogonRight": "RemoteInteractiveLogonRight"}
SESSION_FIELDS = ("Sessions", "PrivilegedSessions", "RegistrySessions")
CA_SERVICE_RIGHTS = frozenset({"ManageCA", "ManageCertificates", "Enroll"})
SAME_FOREST_TRUST_TYPES = frozenset({"ParentChild", "TreeRoot", "CrossLink"})
TRUST_TYPES_BY_NUMBER = {0: "ParentChild", 1: "CrossLink", 2: "Forest", 3: "External", 4: "Unknown"}
TRUST_DIRECTIONS_BY_NUMBER = {0: "Disabled", 1: "Inbound", 2: "Outbound", 3: "Bidirectional"}

TIER_ZERO_GROUP_RIDS = {
    "512": "Domain Admins", "516": "Domain Controllers group", "518": "Schema Admins", "519": "Enterprise Admins",
    "544": "Administrators",
}
KRBTGT_RID = "502"
DOMAIN_CONTROLLERS_RID = "516"
ALL_ACCOUNTS_RIDS = ("513", "515")
ALL_ACCOUNTS_SIDS = ("S-1-5-11", "S-1-1-0")
SERVER_TRUST_ACCOUNT = 0x2000
PASSWORD_ATTRIBUTES = frozenset({"userpassword", "unixpassword", "unicodepassword", "sfupassword"})
COMPUTED_PROPERTIES = frozenset({"id", "objectid", "type", "placeholder", "critical", "critical_reason", "entry_point"})

CONTEXT_EDGE_TYPES = frozenset({
    "GetChanges", "GetChangesAll", "GetChangesInFilteredSet", "Enroll", "ManageCA", "ManageCertificates",
    "WritePKIEnrollmentFlag", "WritePKINameFlag", "CrossForestTrust", "PublishedTo", "HostsCAService",
    "RootCAFor", "NTAuthStoreFor", "RemoteInteractiveLogonRight", "WritePublicInformation", "ServerIs",
})
"""Relationship types this importer may emit that are context, not attacker moves (no mapping prior)."""

_KIND_BY_OBJECT_TYPE = {kind.lower(): kind for kind in KINDS_BY_TYPE.values()}
_SID_RID = re.compile(r"S-1-\d+(?:-\d+)*-(\d+)$")

SKIP_SELF_ACE = "ACE grants an object rights on itself (BloodHound skips these too)"
SKIP_LOCAL = "machine-local principal (LocalUser/LocalGroup) is not a directory object"
SKIP_OTHER_LOCAL_GROUP = "member of a local group other than Administrators/RDP/DCOM/Remote Management"
SKIP_MALFORMED = "malformed record (not an object or missing identifier)"
SKIP_BAD_NAME = "relationship name is not an identifier"
SKIP_NOT_COLLECTED = "results of a collection that reported Collected=false"
SKIP_DELETED = "object marked IsDeleted"
SKIP_NOT_JSON = "file in the collection is not .json"
SKIP_UNMODELLED = "collection type not modelled (sites)"
SKIP_PROPERTY = "property value not storable (nested or mixed list, or integer beyond 64 bits)"
SKIP_PROPERTY_NAME = "property name not usable as an identifier"
SKIP_USER_RIGHT = "user right other than SeRemoteInteractiveLogonRight"
SKIP_TRUST = "trust disabled or of unknown direction"


@dataclass
class _Object:
    kind: str
    props: dict[str, Any]
    where: str
    placeholder: bool = False


@dataclass
class _Collection:
    """Everything read so far; turned into a graph by `_finish`."""

    report: ImportReport
    objects: dict[str, _Object] = field(default_factory=dict)
    hints: dict[str, tuple[str, dict[str, Any], str]] = field(default_factory=dict)
    edges: dict[str, dict[tuple[str, str], dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    replication: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    dc_flags: set[str] = field(default_factory=set)
    primary_groups: dict[str, str] = field(default_factory=dict)

    def hint(self, oid: str, kind: str, where: str, props: dict[str, Any] | None = None) -> None:
        """Remember what a referenced id is, in case it needs a placeholder."""
        known = self.hints.get(oid)
        if known is None or (known[0] == PLACEHOLDER_KIND and kind != PLACEHOLDER_KIND):
            merged = {**(known[1] if known else {}), **(props or {})}
            self.hints[oid] = (kind, merged, where)
        elif props:
            for name, value in props.items():
                known[1].setdefault(name, value)

    def edge(self, rel_type: str, src: str, dst: str, where: str, props: dict[str, Any] | None = None) -> None:
        if not IDENTIFIER.match(rel_type):
            self.report.skip(SKIP_BAD_NAME, where)
            return
        bucket = self.edges[rel_type]
        if (src, dst) in bucket:
            self.report.merged["duplicate relationships (same type, source and target)"] += 1
            return
        bucket[(src, dst)] = props or {}


def _oid(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip().upper()
    return None


def _kind_hint(object_type: Any) -> str:
    if isinstance(object_type, str):
        return _KIND_BY_OBJECT_TYPE.get(object_type.lower(), PLACEHOLDER_KIND)
    return PLACEHOLDER_KIND


def _rid(oid: str) -> str | None:
    match = _SID_RID.search(oid)
    return match.group(1) if match else None


def _property_name(raw: str) -> str | None:
    name = re.sub(r"[^0-9A-Za-z_]+", "_", raw).strip("_").lower()
    if name[:1].isdigit():
        name = "_" + name
    return name if IDENTIFIER.match(name) else None


def _primitive(value: Any) -> bool:
    if isinstance(value, (bool, str)):
        return True
    if isinstance(value, int):
        return INT64_MIN <= value <= INT64_MAX
    return isinstance(value, float) and math.isfinite(value)


def _storable(value: Any) -> tuple[bool, Any]:
    """(ok, value): None and [] are ok-but-missing; lists must hold one primitive type."""
    if value is None:
        return True, None
    if _primitive(value):
        return True, value
    if isinstance(value, list):
        if not value:
            return True, None
        if not all(_primitive(item) for item in value):
            return False, None
        if all(isinstance(item, str) for item in value) or all(isinstance(item, bool) for item in value):
            return True, list(value)
        if any(isinstance(item, (bool, str)) for item in value):
            return False, None
        if any(isinstance(item, float) for item in value):
            return True, [float(item) for item in value]
        return True, list(value)
    return False, None


def _node_properties(raw: Any, report: ImportReport, where: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for key, value in (raw or {}).items():
        name = _property_name(str(key))
        if name is None:
            report.skip(SKIP_PROPERTY_NAME, f"{where}/{key}")
            continue
        if name in COMPUTED_PROPERTIES:
            continue
        if name in PASSWORD_ATTRIBUTES:
            if value not in (None, "", []):
                props[f"has_{name}"] = True
            continue
        if isinstance(value, dict):
            for sub_key, sub_value in value.items():
                sub_name = _property_name(f"{name}_{sub_key}")
                ok, stored = _storable(sub_value)
                if sub_name is None or not ok:
                    report.skip(SKIP_PROPERTY, f"{where}/{key}/{sub_key}")
                elif stored is not None:
                    props[sub_name] = stored
            continue
        ok, stored = _storable(value)
        if not ok:
            report.skip(SKIP_PROPERTY, f"{where}/{key}")
        elif stored is not None:
            props[name] = stored
    return props


def _list(entry: dict[str, Any], key: str, report: ImportReport, where: str) -> list[Any]:
    value = entry.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    report.skip(SKIP_MALFORMED, f"{where}/{key}")
    return []


def _collected(result: Any) -> bool:
    """An API result counts unless it says ``Collected: false`` (v5/v6); older plain lists always count."""
    return not isinstance(result, dict) or result.get("Collected", True) is not False


def _results(result: Any) -> list[Any]:
    if isinstance(result, list):
        return result
    if isinstance(result, dict) and isinstance(result.get("Results"), list):
        return result["Results"]
    return []


def _typed(item: Any) -> tuple[str, str, Any] | None:
    """(id, kind hint, raw ObjectType) of a TypedPrincipal-like reference, or None when malformed."""
    if not isinstance(item, dict):
        return None
    oid = _oid(item.get("ObjectIdentifier"))
    if oid is None:
        return None
    object_type = item.get("ObjectType")
    return oid, _kind_hint(object_type), object_type


def _reference(col: _Collection, item: Any, where: str, default_kind: str = PLACEHOLDER_KIND) -> str | None:
    """Resolve a reference, remember its kind for placeholders; None (counted) if malformed or local."""
    typed = _typed(item)
    if typed is None:
        col.report.skip(SKIP_MALFORMED, where)
        return None
    oid, kind, object_type = typed
    if object_type in LOCAL_PRINCIPAL_TYPES:
        col.report.skip(SKIP_LOCAL, where)
        return None
    if kind == PLACEHOLDER_KIND and default_kind != PLACEHOLDER_KIND:
        kind = default_kind
    extra = {"object_type": object_type} if kind == PLACEHOLDER_KIND and isinstance(object_type, str) else None
    col.hint(oid, kind, where, extra)
    return oid


def _register(col: _Collection, kind: str, oid: str, entry: dict[str, Any], file: str, pointer: str) -> None:
    where = f"{file} {pointer}"
    raw = entry.get("Properties")
    if raw is not None and not isinstance(raw, dict):
        raise GraphImportError(file, pointer + "/Properties", "Properties must be an object")
    props = _node_properties(raw, col.report, f"{where}/Properties")
    if kind == "Computer" and isinstance(entry.get("IsDC"), bool):
        props.setdefault("isdc", entry["IsDC"])
    if kind == "Computer" and isinstance(entry.get("DomainSID"), str):
        props.setdefault("domainsid", entry["DomainSID"])
    if kind == "EnterpriseCA":
        registry = entry.get("CARegistryData") if isinstance(entry.get("CARegistryData"), dict) else {}
        for key, name in (("IsUserSpecifiesSanEnabled", "isuserspecifiessanenabled"),
                          ("RoleSeparationEnabled", "roleseparationenabled")):
            result = registry.get(key)
            if isinstance(result, dict) and result.get("Collected") is True and isinstance(result.get("Value"), bool):
                props[name] = result["Value"]
        restrictions = registry.get("EnrollmentAgentRestrictions")
        if isinstance(restrictions, dict) and restrictions.get("Collected") is True:
            props["hasenrollmentagentrestrictions"] = bool(restrictions.get("Restrictions"))
    existing = col.objects.get(oid)
    if existing is None:
        col.objects[oid] = _Object(kind, props, where)
        return
    if existing.kind != kind:
        raise GraphImportError(file, pointer,
                               f"object {oid} is a {kind} here but a {existing.kind} at {existing.where}")
    col.report.merged["duplicate objects (same ObjectIdentifier) merged"] += 1
    for name, value in props.items():
        if name not in existing.props:
            existing.props[name] = value
        elif existing.props[name] != value:
            col.report.merged["conflicting property values in duplicate objects (first kept)"] += 1


def _aces(col: _Collection, kind: str, oid: str, entry: dict[str, Any], where: str) -> None:
    aces = [(f"{where}/Aces/{i}", ace) for i, ace in enumerate(_list(entry, "Aces", col.report, where))]
    if kind == "EnterpriseCA":
        registry = entry.get("CARegistryData") if isinstance(entry.get("CARegistryData"), dict) else {}
        security = registry.get("CASecurity")
        if isinstance(security, dict) and security.get("Collected") is True and isinstance(security.get("Data"), list):
            hosting = _oid(entry.get("HostingComputer"))
            from_ca = [(f"{where}/CARegistryData/CASecurity/Data/{i}", ace) for i, ace in enumerate(security["Data"])
                       if not (isinstance(ace, dict) and ace.get("RightName") == "Owns")]
            from_ad = [(w, ace) for w, ace in aces if not isinstance(ace, dict)
                       or _oid(ace.get("PrincipalSID")) == hosting or ace.get("RightName") not in CA_SERVICE_RIGHTS]
            aces = from_ca + from_ad
    for ace_where, ace in aces:
        if not isinstance(ace, dict):
            col.report.skip(SKIP_MALFORMED, ace_where)
            continue
        principal = _oid(ace.get("PrincipalSID"))
        right = ace.get("RightName")
        if principal is None or not isinstance(right, str):
            col.report.skip(SKIP_MALFORMED, ace_where)
            continue
        if ace.get("PrincipalType") in LOCAL_PRINCIPAL_TYPES:
            col.report.skip(SKIP_LOCAL, ace_where)
            continue
        if principal == oid:
            col.report.skip(SKIP_SELF_ACE, ace_where)
            continue
        if not IDENTIFIER.match(right):
            col.report.skip(SKIP_BAD_NAME, ace_where)
            continue
        col.hint(principal, _kind_hint(ace.get("PrincipalType")), ace_where)
        col.edge(right, principal, oid, ace_where, {"is_inherited": bool(ace.get("IsInherited"))})
        if kind == "Domain" and right in ("GetChanges", "GetChangesAll"):
            col.replication[(principal, oid)].add(right)


def _local_group_edges(col: _Collection, oid: str, entry: dict[str, Any], where: str) -> None:
    for i, group in enumerate(_list(entry, "LocalGroups", col.report, where)):
        group_where = f"{where}/LocalGroups/{i}"
        if not isinstance(group, dict) or _oid(group.get("ObjectIdentifier")) is None:
            col.report.skip(SKIP_MALFORMED, group_where)
            continue
        members = _results(group)
        if not _collected(group):
            if members:
                col.report.skip(SKIP_NOT_COLLECTED, group_where, len(members))
            continue
        rel_type = LOCAL_GROUP_EDGES.get(_oid(group["ObjectIdentifier"]).rsplit("-", 1)[-1])
        for j, member in enumerate(members):
            member_where = f"{group_where}/Results/{j}"
            if rel_type is None:
                col.report.skip(SKIP_OTHER_LOCAL_GROUP, member_where)
                continue
            principal = _reference(col, member, member_where)
            if principal is not None:
                col.edge(rel_type, principal, oid, member_where, {"via_gpo": False})
    for key, rel_type in V5_LOCAL_GROUP_FIELDS.items():
        result = entry.get(key)
        if result is None:
            continue
        members = _results(result)
        if not _collected(result):
            if members:
                col.report.skip(SKIP_NOT_COLLECTED, f"{where}/{key}", len(members))
            continue
        for j, member in enumerate(members):
            member_where = f"{where}/{key}/{j}"
            principal = _reference(col, member, member_where)
            if principal is not None:
                col.edge(rel_type, principal, oid, member_where, {"via_gpo": False})
    for i, right in enumerate(_list(entry, "UserRights", col.report, where)):
        right_where = f"{where}/UserRights/{i}"
        if not isinstance(right, dict):
            col.report.skip(SKIP_MALFORMED, right_where)
            continue
        members = _results(right)
        rel_type = USER_RIGHT_EDGES.get(right.get("Privilege"))
        if rel_type is None:
            col.report.skip(SKIP_USER_RIGHT, right_where, max(len(members), 1))
            continue
        if not _collected(right):
            if members:
                col.report.skip(SKIP_NOT_COLLECTED, right_where, len(members))
            continue
        for j, member in enumerate(members):
            principal = _reference(col, member, f"{right_where}/Results/{j}")
            if principal is not None:
                col.edge(rel_type, principal, oid, f"{right_where}/Results/{j}")


def _gpo_changes(col: _Collection, entry: dict[str, Any], where: str) -> None:
    changes = entry.get("GPOChanges")
    if not isinstance(changes, dict):
        return
    computers = []
    for i, item in enumerate(changes.get("AffectedComputers") or []):
        computer = _reference(col, item, f"{where}/GPOChanges/AffectedComputers/{i}", "Computer")
        if computer is not None:
            computers.append(computer)
    for key, rel_type in V5_LOCAL_GROUP_FIELDS.items():
        for j, member in enumerate(changes.get(key) or []):
            member_where = f"{where}/GPOChanges/{key}/{j}"
            principal = _reference(col, member, member_where)
            if principal is None:
                continue
            for computer in computers:
                col.edge(rel_type, principal, computer, member_where, {"via_gpo": True})


def _sessions(col: _Collection, oid: str, entry: dict[str, Any], where: str) -> None:
    for key in SESSION_FIELDS:
        result = entry.get(key)
        if result is None:
            continue
        sessions = _results(result)
        if not _collected(result):
            if sessions:
                col.report.skip(SKIP_NOT_COLLECTED, f"{where}/{key}", len(sessions))
            continue
        for j, session in enumerate(sessions):
            session_where = f"{where}/{key}/Results/{j}"
            user = _oid(session.get("UserSID")) if isinstance(session, dict) else None
            if user is None:
                col.report.skip(SKIP_MALFORMED, session_where)
                continue
            computer = _oid(session.get("ComputerSID")) or oid
            col.hint(user, "User", session_where)
            col.hint(computer, "Computer", session_where)
            col.edge("HasSession", computer, user, session_where)


def _trusts(col: _Collection, oid: str, entry: dict[str, Any], where: str) -> None:
    for i, trust in enumerate(_list(entry, "Trusts", col.report, where)):
        trust_where = f"{where}/Trusts/{i}"
        target = _oid(trust.get("TargetDomainSid")) if isinstance(trust, dict) else None
        if target is None:
            col.report.skip(SKIP_MALFORMED, trust_where)
            continue
        direction = trust.get("TrustDirection")
        direction = TRUST_DIRECTIONS_BY_NUMBER.get(direction, direction) if isinstance(direction, int) else direction
        trust_type = trust.get("TrustType")
        trust_type = TRUST_TYPES_BY_NUMBER.get(trust_type, "Unknown") if isinstance(trust_type, int) else trust_type
        trust_type = trust_type if isinstance(trust_type, str) else "Unknown"
        name = trust.get("TargetDomainName")
        col.hint(target, "Domain", trust_where, {"name": name.upper()} if isinstance(name, str) and name else None)
        rel_type = "SameForestTrust" if trust_type in SAME_FOREST_TRUST_TYPES else "CrossForestTrust"
        cross_forest = rel_type == "CrossForestTrust"
        props = {"trust_type": trust_type}
        for key, prop in (("IsTransitive", "transitive"), ("SidFilteringEnabled", "sid_filtering_enabled"),
                          ("TGTDelegationEnabled", "tgt_delegation_enabled")):
            if isinstance(trust.get(key), bool):
                props[prop] = trust[key]
        if direction not in ("Inbound", "Outbound", "Bidirectional"):
            col.report.skip(SKIP_TRUST, trust_where)
            continue
        if direction in ("Inbound", "Bidirectional"):
            # the target domain trusts this one
            col.edge(rel_type, target, oid, trust_where, dict(props))
            if cross_forest and trust.get("TGTDelegationEnabled") is True:
                col.edge("AbuseTGTDelegation", target, oid, trust_where, {"trust_type": trust_type})
        if direction in ("Outbound", "Bidirectional"):
            # this domain trusts the target one
            col.edge(rel_type, oid, target, trust_where, dict(props))
            if cross_forest and trust.get("SidFilteringEnabled") is False:
                col.edge("SpoofSIDHistory", target, oid, trust_where, {"trust_type": trust_type})


def _relationships(col: _Collection, kind: str, oid: str, entry: dict[str, Any], where: str) -> None:
    report = col.report
    _aces(col, kind, oid, entry, where)

    container = entry.get("ContainedBy")
    if container is not None:
        parent = _reference(col, container, f"{where}/ContainedBy")
        if parent is not None:
            col.edge("Contains", parent, oid, f"{where}/ContainedBy")
    for i, child in enumerate(_list(entry, "ChildObjects", report, where)):
        child_id = _reference(col, child, f"{where}/ChildObjects/{i}")
        if child_id is not None:
            col.edge("Contains", oid, child_id, f"{where}/ChildObjects/{i}")
    for i, link in enumerate(_list(entry, "Links", report, where)):
        gpo = _oid(link.get("GUID")) if isinstance(link, dict) else None
        if gpo is None:
            report.skip(SKIP_MALFORMED, f"{where}/Links/{i}")
            continue
        col.hint(gpo, "GPO", f"{where}/Links/{i}")
        col.edge("GPLink", gpo, oid, f"{where}/Links/{i}", {"enforced": bool(link.get("IsEnforced"))})
    _gpo_changes(col, entry, where)

    for i, member in enumerate(_list(entry, "Members", report, where)):
        member_id = _reference(col, member, f"{where}/Members/{i}")
        if member_id is not None:
            col.edge("MemberOf", member_id, oid, f"{where}/Members/{i}", {"is_primary_group": False})
    primary = _oid(entry.get("PrimaryGroupSID"))
    if primary is not None:
        col.primary_groups[oid] = primary
        col.hint(primary, "Group", f"{where}/PrimaryGroupSID")
        col.edge("MemberOf", oid, primary, f"{where}/PrimaryGroupSID", {"is_primary_group": True})

    for key, outgoing in (("AllowedToDelegate", True), ("AllowedToAct", False), ("HasSIDHistory", True),
                          ("DumpSMSAPassword", True)):
        for i, item in enumerate(_list(entry, key, report, where)):
            other = _reference(col, item, f"{where}/{key}/{i}")
            if other is not None:
                src, dst = (oid, other) if outgoing else (other, oid)
                col.edge(key, src, dst, f"{where}/{key}/{i}")
    for i, target in enumerate(_list(entry, "SPNTargets", report, where)):
        computer = _oid(target.get("ComputerSID")) if isinstance(target, dict) else None
        service = target.get("Service") if isinstance(target, dict) else None
        if computer is None or not isinstance(service, str):
            report.skip(SKIP_MALFORMED, f"{where}/SPNTargets/{i}")
            continue
        col.hint(computer, "Computer", f"{where}/SPNTargets/{i}")
        port = target.get("Port")
        col.edge(service, oid, computer, f"{where}/SPNTargets/{i}", {"port": port} if isinstance(port, int) else {})

    if kind == "Computer":
        _sessions(col, oid, entry, where)
        _local_group_edges(col, oid, entry, where)
    if kind in ("User", "Computer"):
        props = col.objects[oid].props
        domain_sid = _oid(entry.get("DomainSID")) or _oid(props.get("domainsid"))
        is_dc = entry.get("IsDC") is True or props.get("isdc") is True
        if is_dc:
            col.dc_flags.add(oid)
        if is_dc and domain_sid is not None:
            col.hint(domain_sid, "Domain", f"{where}/DomainSID")
            col.edge("DCFor", oid, domain_sid, f"{where}/DomainSID")
        elif props.get("unconstraineddelegation") is True and domain_sid is not None:
            col.hint(domain_sid, "Domain", f"{where}/Properties/unconstraineddelegation")
            col.edge("CoerceToTGT", oid, domain_sid, f"{where}/Properties/unconstraineddelegation")
    if kind == "Domain":
        _trusts(col, oid, entry, where)
    if kind == "EnterpriseCA":
        for i, template in enumerate(_list(entry, "EnabledCertTemplates", report, where)):
            template_id = _reference(col, template, f"{where}/EnabledCertTemplates/{i}", "CertTemplate")
            if template_id is not None:
                col.edge("PublishedTo", template_id, oid, f"{where}/EnabledCertTemplates/{i}")
        hosting = _oid(entry.get("HostingComputer"))
        if hosting is not None:
            col.hint(hosting, "Computer", f"{where}/HostingComputer")
            col.edge("HostsCAService", hosting, oid, f"{where}/HostingComputer")
    if kind in ("RootCA", "NTAuthStore"):
        domain_sid = _oid(entry.get("DomainSID"))
        if domain_sid is not None:
            col.hint(domain_sid, "Domain", f"{where}/DomainSID")
            col.edge(f"{kind}For", oid, domain_sid, f"{where}/DomainSID")


def _read_file(col: _Collection, file: str, document: Any) -> None:
    report = col.report
    if not isinstance(document, dict) or not isinstance(document.get("meta"), dict):
        raise GraphImportError(file, "/meta", "not a SharpHound file: expected an object with 'data' and 'meta'")
    meta = document["meta"]
    data_type = meta.get("type")
    if not isinstance(data_type, str):
        raise GraphImportError(file, "/meta/type", "meta.type is missing; cannot tell what the entries are")
    data_type = data_type.lower()
    version = meta.get("version")
    entry_list = document.get("data")
    report.files.append({"file": file, "type": data_type, "version": version,
                         "entries": len(entry_list) if isinstance(entry_list, list) else None,
                         "meta_count": meta.get("count")})
    if data_type in UNMODELLED_TYPES:
        report.skip(SKIP_UNMODELLED, file, len(entry_list) if isinstance(entry_list, list) else 1)
        return
    kind = KINDS_BY_TYPE.get(data_type)
    if kind is None:
        raise GraphImportError(file, "/meta/type", f"unknown meta.type {meta.get('type')!r}; SharpHound types read: "
                               f"{', '.join(KINDS_BY_TYPE)} ({', '.join(sorted(UNMODELLED_TYPES))} are skipped)")
    if isinstance(version, bool) or not isinstance(version, int):
        report.warnings.append(f"{file}: meta.version missing; read as v{SUPPORTED_VERSIONS[-1]}")
    elif version < SUPPORTED_VERSIONS[0]:
        raise GraphImportError(file, "/meta/version", f"SharpHound format v{version} is not supported (v5 and v6 "
                               "are); re-collect with a current SharpHound")
    elif version > SUPPORTED_VERSIONS[-1]:
        report.warnings.append(f"{file}: meta.version {version} is newer than v{SUPPORTED_VERSIONS[-1]}; read as v6")
    if not isinstance(entry_list, list):
        raise GraphImportError(file, "/data", "data must be a list of objects")
    count = meta.get("count")
    if isinstance(count, int) and count != len(entry_list):
        report.warnings.append(f"{file}: meta.count is {count} but data has {len(entry_list)} entries")

    for index, entry in enumerate(entry_list):
        pointer = json_pointer("data", index)
        if not isinstance(entry, dict):
            raise GraphImportError(file, pointer, f"expected an object, got {type(entry).__name__}")
        oid = _oid(entry.get("ObjectIdentifier"))
        if oid is None:
            raise GraphImportError(file, pointer + "/ObjectIdentifier", "missing or empty ObjectIdentifier")
        where = f"{file} {pointer}"
        if entry.get("IsDeleted") is True:
            report.skip(SKIP_DELETED, where)
            continue
        _register(col, kind, oid, entry, file, pointer)
        _relationships(col, kind, oid, entry, where)


def _tier_zero_reason(oid: str, obj: _Object, dc_members: set[str], col: _Collection) -> str | None:
    props = obj.props
    rid = _rid(oid)
    if obj.kind == "Domain":
        return "domain"
    if obj.kind in ("Group", PLACEHOLDER_KIND) and rid in TIER_ZERO_GROUP_RIDS:
        return TIER_ZERO_GROUP_RIDS[rid]
    if obj.kind in ("User", PLACEHOLDER_KIND) and rid == KRBTGT_RID:
        return "krbtgt account"
    if obj.kind == "Computer":
        uac = props.get("useraccountcontrol")
        primary = col.primary_groups.get(oid)
        server_trust = isinstance(uac, int) and not isinstance(uac, bool) and bool(uac & SERVER_TRUST_ACCOUNT)
        dc_primary_group = primary is not None and _rid(primary) == DOMAIN_CONTROLLERS_RID
        if oid in col.dc_flags or oid in dc_members or dc_primary_group or server_trust:
            return "domain controller"
    if props.get("highvalue") is True:
        return "highvalue"
    tags = props.get("system_tags")
    tags = tags.split() if isinstance(tags, str) else tags if isinstance(tags, list) else []
    if "admin_tier_0" in tags:
        return "admin_tier_0 tag"
    return None


def _all_accounts_group(oid: str, obj: _Object) -> bool:
    """Domain Users/Computers, Authenticated Users or Everyone: every domain account is in it."""
    if obj.kind not in ("Group", PLACEHOLDER_KIND):
        return False
    return (_rid(oid) in ALL_ACCOUNTS_RIDS and oid.startswith("S-1-5-21-")) or any(
        oid == sid or oid.endswith("-" + sid) for sid in ALL_ACCOUNTS_SIDS)


def _is_entry_point(oid: str, obj: _Object, rule: str) -> bool:
    props = obj.props
    if rule == "assume_breach" and _all_accounts_group(oid, obj):
        return True
    if obj.kind != "User" or obj.placeholder or props.get("enabled") is not True:
        return False
    if rule == "enabled_users":
        return True
    managed = props.get("gmsa") is True or props.get("msa") is True
    return not managed and (props.get("dontreqpreauth") is True or props.get("hasspn") is True)


def _finish(col: _Collection, entry_point_rule: str) -> PropertyGraph:
    report = col.report
    for (principal, domain), rights in sorted(col.replication.items()):
        if {"GetChanges", "GetChangesAll"} <= rights:
            col.edge("DCSync", principal, domain, f"Aces of domain {domain}")

    for rel_type, bucket in col.edges.items():
        for src, dst in bucket:
            for endpoint in (src, dst):
                if endpoint not in col.objects:
                    kind, props, where = col.hints.get(endpoint, (PLACEHOLDER_KIND, {}, rel_type))
                    col.objects[endpoint] = _Object(kind, dict(props), where, placeholder=True)
                    report.placeholders_by_kind[kind] = report.placeholders_by_kind.get(kind, 0) + 1

    dc_members = {src for src, dst in col.edges.get("MemberOf", {}) if _rid(dst) == DOMAIN_CONTROLLERS_RID}
    rows_by_kind: dict[str, tuple[list[str], list[dict[str, Any]]]] = {}
    for oid, obj in col.objects.items():
        reason = _tier_zero_reason(oid, obj, dc_members, col)
        props = {**obj.props, "objectid": oid, "type": obj.kind, "placeholder": obj.placeholder,
                 "critical": reason is not None, "critical_reason": reason,
                 "entry_point": _is_entry_point(oid, obj, entry_point_rule)}
        ids, rows = rows_by_kind.setdefault(obj.kind, ([], []))
        ids.append(oid)
        rows.append(props)

    graph = PropertyGraph()
    for kind in KINDS:
        if kind in rows_by_kind:
            ids, rows = rows_by_kind[kind]
            graph.nodes.append(NodeSet((KEY_LABEL, kind), object_column(ids), property_columns(rows)))
            report.nodes_by_kind[kind] = len(ids)
    for rel_type in sorted(col.edges):
        bucket = col.edges[rel_type]
        if not bucket:
            continue
        pairs = list(bucket)
        graph.edges.append(EdgeSet(rel_type, KEY_LABEL, KEY_LABEL, object_column(s for s, _ in pairs),
                                   object_column(d for _, d in pairs), property_columns(list(bucket.values()))))
        report.edges_by_type[rel_type] = len(pairs)
    graph.validate()
    return graph


def parse_bloodhound(
    documents: Iterable[tuple[str, Any]],
    source: str = "<memory>",
    *,
    entry_point_rule: str = "roastable",
    report: ImportReport | None = None,
) -> tuple[PropertyGraph, ImportReport]:
    """Build the graph from decoded SharpHound documents (pure; rules in the module docstring).

    Args:
        documents: (file name, decoded JSON) pairs, in the order to read them.
        source: what the report names as the import source.
        entry_point_rule: one of `ENTRY_POINT_RULES`.
        report: a report to continue (skips already counted while listing files).
    Returns:
        (graph, report); the graph passes `PropertyGraph.validate`.
    Raises:
        GraphImportError: a file is not a SharpHound file, has an unknown meta.type or an unsupported
            version, an entry lacks its ObjectIdentifier, or one id has two kinds.
        ValueError: unknown ``entry_point_rule``.
    """
    if entry_point_rule not in ENTRY_POINT_RULES:
        raise ValueError(f"entry_point_rule must be one of {', '.join(ENTRY_POINT_RULES)}, got {entry_point_rule!r}")
    col = _Collection(report or ImportReport(source=source, format="bloodhound"))
    for file, document in documents:
        _read_file(col, file, document)
    if not col.report.files:
        raise GraphImportError(source, None, "no SharpHound .json files found")
    return _finish(col, entry_point_rule), col.report


def _member_files(path: Path, report: ImportReport) -> Iterator[tuple[str, bytes]]:
    """(display name, bytes) of each JSON file in a ZIP, a directory or a single file, in name order."""
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            if file.suffix.lower() == ".json":
                yield str(file), read_bytes(file)
            else:
                report.skip(SKIP_NOT_JSON, str(file))
        return
    if path.suffix.lower() == ".json":
        yield str(path), read_bytes(path)
        return
    read_bytes(path)  # existence and readability, with the usual messages
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise GraphImportError(str(path), None, "not a readable ZIP archive (truncated or corrupt?): "
                               f"{exc}; expected a SharpHound ZIP, a directory or a .json file") from exc
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            name = info.filename
            parts = PurePosixPath(name).parts
            if info.is_dir() or any(p.startswith(("__MACOSX", ".")) for p in parts):
                continue
            if not name.lower().endswith(".json"):
                report.skip(SKIP_NOT_JSON, f"{path}!{name}")
                continue
            try:
                data = archive.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
                raise GraphImportError(f"{path}!{name}", None,
                                       f"cannot be read from the archive (truncated or corrupt?): {exc}") from exc
            yield f"{path}!{name}", data


def read_bloodhound(path: str | Path, *, entry_point_rule: str = "roastable") -> tuple[PropertyGraph, ImportReport]:
    """Read a SharpHound collection into a graph (format and rules in the module docstring).

    Args:
        path: a SharpHound ZIP, a directory of its JSON files, or one JSON file.
        entry_point_rule: ``roastable`` (default), ``assume_breach`` or ``enabled_users``: which nodes get
            ``entry_point = true``.
    Returns:
        (graph, report): nodes ``(:Asset:<Kind>)`` and BloodHound-named relationships, plus counts per kind
        and type, placeholders, and every skip with its reason.
    Raises:
        GraphImportError: naming the file (``archive.zip!member.json``) and position: missing path,
            truncated or corrupt ZIP, invalid JSON (line and column), not a SharpHound file, unknown
            meta.type, unsupported version, entry without ObjectIdentifier, one id with two kinds. Nothing
            is returned on error, so nothing is written.
    """
    began = time.perf_counter()
    path = Path(path)
    report = ImportReport(source=str(path), format="bloodhound")
    documents = ((name, decode_json(name, data))
                 for name, data in _member_files(path, report))
    graph, report = parse_bloodhound(documents, str(path), entry_point_rule=entry_point_rule, report=report)
    log.info("read %s: %d nodes (%d placeholders), %d relationships in %.2fs", path, graph.node_count,
             report.placeholders, graph.edge_count, time.perf_counter() - began)
    return graph, report
