"""BloodHound importer: the SpecterOps sample collection checked against counts taken straight from the raw
JSON by a separate, deliberately simple code path, a hand-made collection for exact facts, and bad inputs."""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from gnn_neo4j.importers.bloodhound import CONTEXT_EDGE_TYPES, parse_bloodhound, read_bloodhound
from gnn_neo4j.importers.errors import GraphImportError
from gnn_neo4j.importers.json_format import validate_against_mapping
from gnn_neo4j.mapping import load_mapping

DATA = Path(__file__).resolve().parents[1] / "data" / "bloodhound"
SMALL = DATA / "small_collection"
KIND = {"users": "User", "groups": "Group", "computers": "Computer", "domains": "Domain", "ous": "OU", "gpos": "GPO",
        "containers": "Container", "certtemplates": "CertTemplate", "enterprisecas": "EnterpriseCA",
        "rootcas": "RootCA", "aiacas": "AIACA", "ntauthstores": "NTAuthStore"}
LOCAL = ("LocalUser", "LocalGroup")
D = "S-1-5-21-1000-2000-3000"


def sid(rid: int) -> str:
    return f"{D}-{rid}"


@pytest.fixture(scope="module")
def sample_zip() -> Path:
    candidates = [Path(__file__).resolve().parents[3] / "shared" / "data",
                  Path(os.environ.get("GNN_SHARED_DIR", "/work/shared")) / "data"]
    for base in candidates:
        path = base / "bloodhound-ad-sample" / "ad_sampledata.zip"
        if path.is_file():
            return path
    pytest.fail("the BloodHound sample collection (shared/data/bloodhound-ad-sample/ad_sampledata.zip) is missing")


@pytest.fixture(scope="module")
def raw_entries(sample_zip: Path) -> list[tuple[str, dict]]:
    """(meta.type, entry) for every entry of every file: the independent view of the sample."""
    entries = []
    with zipfile.ZipFile(sample_zip) as archive:
        for name in archive.namelist():
            document = json.loads(archive.read(name).decode("utf-8-sig"))
            entries += [(document["meta"]["type"], entry) for entry in document["data"]]
    return entries


@pytest.fixture(scope="module")
def sample(sample_zip: Path):
    return read_bloodhound(sample_zip)


def node_table(graph) -> dict[str, dict]:
    """id -> {kind, property: value} over the whole graph."""
    table = {}
    for node_set in graph.nodes:
        for index, node_id in enumerate(node_set.ids):
            row = {name: column[index] for name, column in node_set.properties.items() if column[index] is not None}
            table[node_id] = {"kind": node_set.labels[1], **row}
    return table


def edge_pairs(graph, rel_type: str) -> set[tuple[str, str]]:
    return {(s, d) for e in graph.edges if e.rel_type == rel_type for s, d in zip(e.src, e.dst)}


def expected_edges(raw_entries) -> dict[str, set]:
    """Every relationship the importer should emit, as sets of (source, target), from the raw entries."""
    up = str.upper
    edges: dict[str, set] = defaultdict(set)
    replication: dict[tuple[str, str], set] = defaultdict(set)
    for data_type, e in raw_entries:
        oid = up(e["ObjectIdentifier"])
        aces = e.get("Aces") or []
        security = (e.get("CARegistryData") or {}).get("CASecurity") or {}
        if data_type == "enterprisecas" and security.get("Collected"):
            aces = [a for a in security["Data"] if a["RightName"] != "Owns"] + [
                a for a in aces if up(a["PrincipalSID"]) == up(e["HostingComputer"])
                or a["RightName"] not in ("ManageCA", "ManageCertificates", "Enroll")]
        for a in aces:
            if up(a["PrincipalSID"]) != oid and a["PrincipalType"] not in LOCAL:
                edges[a["RightName"]].add((up(a["PrincipalSID"]), oid))
                if data_type == "domains":
                    replication[(up(a["PrincipalSID"]), oid)].add(a["RightName"])
        for m in e.get("Members") or []:
            edges["MemberOf"].add((up(m["ObjectIdentifier"]), oid))
        if e.get("PrimaryGroupSID"):
            edges["MemberOf"].add((oid, up(e["PrimaryGroupSID"])))
        if e.get("ContainedBy"):
            edges["Contains"].add((up(e["ContainedBy"]["ObjectIdentifier"]), oid))
        for c in e.get("ChildObjects") or []:
            edges["Contains"].add((oid, up(c["ObjectIdentifier"])))
        for link in e.get("Links") or []:
            edges["GPLink"].add((up(link["GUID"]), oid))
        for key in ("Sessions", "PrivilegedSessions", "RegistrySessions"):
            if e.get(key, {}).get("Collected"):
                edges["HasSession"] |= {(up(s["ComputerSID"]), up(s["UserSID"])) for s in e[key]["Results"]}
        for group in e.get("LocalGroups") or []:
            rel = {"544": "AdminTo", "555": "CanRDP", "562": "ExecuteDCOM", "580": "CanPSRemote"}.get(
                group["ObjectIdentifier"].split("-")[-1])
            if rel and group["Collected"]:
                edges[rel] |= {(up(m["ObjectIdentifier"]), oid)
                               for m in group["Results"] if m["ObjectType"] not in LOCAL}
        for right in e.get("UserRights") or []:
            if right["Privilege"] == "SeRemoteInteractiveLogonRight":
                edges["RemoteInteractiveLogonRight"] |= {
                    (up(m["ObjectIdentifier"]), oid) for m in right["Results"] if m["ObjectType"] not in LOCAL}
        changes = e.get("GPOChanges") or {}
        for key, rel in (("LocalAdmins", "AdminTo"), ("RemoteDesktopUsers", "CanRDP"), ("DcomUsers", "ExecuteDCOM"),
                         ("PSRemoteUsers", "CanPSRemote")):
            edges[rel] |= {(up(m["ObjectIdentifier"]), up(c["ObjectIdentifier"]))
                           for m in changes.get(key) or [] for c in changes.get("AffectedComputers") or []}
        for t in e.get("AllowedToDelegate") or []:
            edges["AllowedToDelegate"].add((oid, up(t["ObjectIdentifier"])))
        for t in e.get("AllowedToAct") or []:
            edges["AllowedToAct"].add((up(t["ObjectIdentifier"]), oid))
        for t in e.get("HasSIDHistory") or []:
            edges["HasSIDHistory"].add((oid, up(t["ObjectIdentifier"])))
        for t in e.get("DumpSMSAPassword") or []:
            edges["DumpSMSAPassword"].add((oid, up(t["ObjectIdentifier"])))
        if e.get("IsDC"):
            edges["DCFor"].add((oid, up(e["DomainSID"])))
        elif data_type in ("users", "computers") and e["Properties"].get("unconstraineddelegation"):
            edges["CoerceToTGT"].add((oid, up(e["Properties"]["domainsid"])))
        for t in e.get("EnabledCertTemplates") or []:
            edges["PublishedTo"].add((up(t["ObjectIdentifier"]), oid))
        if e.get("HostingComputer"):
            edges["HostsCAService"].add((up(e["HostingComputer"]), oid))
        if data_type in ("rootcas", "ntauthstores"):
            edges[{"rootcas": "RootCAFor", "ntauthstores": "NTAuthStoreFor"}[data_type]].add((oid, up(e["DomainSID"])))
        for t in e.get("Trusts") or []:
            same_forest = t["TrustType"] in ("ParentChild", "TreeRoot", "CrossLink")
            rel = "SameForestTrust" if same_forest else "CrossForestTrust"
            other = up(t["TargetDomainSid"])
            if t["TrustDirection"] in ("Inbound", "Bidirectional"):
                edges[rel].add((other, oid))
            if t["TrustDirection"] in ("Outbound", "Bidirectional"):
                edges[rel].add((oid, other))
                if rel == "CrossForestTrust" and not t["SidFilteringEnabled"]:
                    edges["SpoofSIDHistory"].add((other, oid))
    edges["DCSync"] = {key for key, rights in replication.items() if {"GetChanges", "GetChangesAll"} <= rights}
    return {rel: pairs for rel, pairs in edges.items() if pairs}


def test_sample_node_counts_match_the_raw_files(sample, raw_entries):
    graph, report = sample
    ids_per_kind = defaultdict(set)
    for data_type, entry in raw_entries:
        ids_per_kind[KIND[data_type]].add(entry["ObjectIdentifier"].upper())
    table = node_table(graph)
    collected = Counter(row["kind"] for row in table.values() if not row["placeholder"])
    assert collected == {kind: len(ids) for kind, ids in ids_per_kind.items()}
    assert sum(len(ids) for ids in ids_per_kind.values()) == 1469
    assert report.placeholders == sum(1 for row in table.values() if row["placeholder"]) == 10
    assert report.nodes_by_kind == dict(Counter(row["kind"] for row in table.values()))
    assert report.merged["duplicate objects (same ObjectIdentifier) merged"] == len(raw_entries) - 1469


def test_sample_edge_counts_match_the_raw_files(sample, raw_entries):
    graph, report = sample
    expected = expected_edges(raw_entries)
    assert {rel: len(pairs) for rel, pairs in expected.items()} == report.edges_by_type == graph.counts()["edges"]
    for rel, pairs in expected.items():
        assert edge_pairs(graph, rel) == pairs, rel
    # a few anchors, so that a shared mistake in both code paths still shows
    assert report.edges_by_type["GenericAll"] == 3292 and report.edges_by_type["MemberOf"] == 292
    assert report.edge_count == 12505
    # raw ACE entries per right name, before removing duplicates, bound the deduplicated counts from above
    raw_aces = Counter(a["RightName"] for _, e in raw_entries for a in e.get("Aces") or [])
    assert all(report.edges_by_type[right] <= raw_aces[right] for right in raw_aces if right not in (
        "ManageCA", "ManageCertificates", "Enroll"))


def test_sample_placeholders_are_uncollected_ids_that_the_files_mention(sample, sample_zip, raw_entries):
    graph, _ = sample
    collected = {entry["ObjectIdentifier"].upper() for _, entry in raw_entries}
    with zipfile.ZipFile(sample_zip) as archive:
        text = "".join(archive.read(name).decode("utf-8-sig") for name in archive.namelist()).upper()
    placeholders = {i: row for i, row in node_table(graph).items() if row["placeholder"]}
    assert placeholders and not placeholders.keys() & collected
    assert all(f'"{i}"' in text for i in placeholders)
    assert placeholders["S-1-5-21-1852147331-818484528-1557274963"]["name"] == "REVENANT.CORP"
    assert placeholders["S-1-5-21-1852147331-818484528-1557274963"]["kind"] == "Domain"


def test_sample_facts(sample, raw_entries):
    graph, _ = sample
    table = node_table(graph)
    by_name = {row["name"]: node_id for node_id, row in table.items()
               if "name" in row and row["kind"] in ("User", "Group", "Computer", "Domain")}
    admin, domain_admins = by_name["ADMINISTRATOR@PHANTOM.CORP"], by_name["DOMAIN ADMINS@PHANTOM.CORP"]
    assert table[admin]["kind"] == "User" and table[domain_admins]["kind"] == "Group"
    assert (admin, domain_admins) in edge_pairs(graph, "MemberOf")
    assert table[domain_admins]["critical"] and table[domain_admins]["critical_reason"] == "Domain Admins"
    assert table[by_name["DC01.PHANTOM.CORP"]]["critical"] and not table[by_name["RODC01.PHANTOM.CORP"]]["critical"]
    assert table[by_name["KRBTGT@PHANTOM.CORP"]]["critical"] and table[by_name["PHANTOM.CORP"]]["critical"]
    assert not table[by_name["DOMAIN USERS@PHANTOM.CORP"]]["critical"]

    # DCSync exactly for principals holding both replication rights directly on a domain
    holders = defaultdict(set)
    for data_type, entry in raw_entries:
        if data_type == "domains":
            for ace in entry["Aces"]:
                holders[(ace["PrincipalSID"].upper(), entry["ObjectIdentifier"].upper())].add(ace["RightName"])
    both = {key for key, rights in holders.items() if {"GetChanges", "GetChangesAll"} <= rights}
    assert edge_pairs(graph, "DCSync") == both
    assert {table[p]["name"] for p, _ in both} == {"DCSYNCERS@PHANTOM.CORP", "ADMINISTRATORS@PHANTOM.CORP",
                                                  "ADMINISTRATORS@GHOST.CORP", "ADMINISTRATORS@WRAITH.CORP"}
    one_right = {by_name["ALLCHANGES@PHANTOM.CORP"], by_name["SOMECHANGES@PHANTOM.CORP"]}
    assert not one_right & {p for p, _ in edge_pairs(graph, "DCSync")}
    assert by_name["SOMECHANGES@PHANTOM.CORP"] in {p for p, _ in edge_pairs(graph, "GetChanges")}

    # entry points: enabled, roastable, not a managed service account
    roastable = {entry["ObjectIdentifier"] for data_type, entry in raw_entries if data_type == "users"
                 and entry["Properties"].get("enabled") and not entry["Properties"].get("gmsa")
                 and not entry["Properties"].get("msa")
                 and (entry["Properties"].get("dontreqpreauth") or entry["Properties"].get("hasspn"))}
    assert {i for i, row in table.items() if row["entry_point"]} == roastable
    assert {table[i]["name"] for i in roastable} == {"ADMINISTRATOR@PHANTOM.CORP", "SVC_KERB_DEL@PHANTOM.CORP",
                                                    "NOPREAUTH@PHANTOM.CORP"}


def test_sample_graph_is_valid_and_loadable(sample):
    graph, report = sample
    graph.validate()
    validate_against_mapping(graph, load_mapping("bloodhound"), other_rel_types=CONTEXT_EDGE_TYPES)
    for node_set in graph.nodes:
        assert node_set.labels[0] == "Asset" and len(node_set.labels) == 2
        for flag in ("critical", "entry_point", "placeholder"):
            assert {type(v) for v in node_set.properties[flag]} == {bool}
    for column in [c for n in graph.nodes for c in n.properties.values()] + [
            c for e in graph.edges for c in e.properties.values()]:
        for value in column:
            if isinstance(value, list):
                assert value and len({type(v) for v in value}) == 1 and type(value[0]) in (str, bool, int, float)
            else:
                assert value is None or type(value) in (str, bool, int, float)
    assert not [w for w in report.warnings if "meta.count" not in w]


def test_mapping_covers_attack_edges_and_not_context_edges():
    mapping = load_mapping("bloodhound")
    assert not set(mapping.rel_types) & CONTEXT_EDGE_TYPES
    assert {"MemberOf", "HasSession", "AdminTo", "DCSync", "GenericAll", "Contains", "GPLink"} <= set(mapping.rel_types)
    assert all(rel.prior is not None and rel.prior_source for rel in mapping.attack_relationships)
    assert mapping.entry_points.property == "entry_point" and mapping.entry_points.equals is True
    assert mapping.crown_jewels.property == "critical" and mapping.label_property == "exploited"
    assert mapping.key_label == "Asset" and mapping.id_property == "id"


def test_zip_and_directory_give_the_same_graph(sample, sample_zip, tmp_path):
    with zipfile.ZipFile(sample_zip) as archive:
        archive.extractall(tmp_path / "extracted")
    graph, report = read_bloodhound(tmp_path / "extracted")
    zipped, zipped_report = sample
    assert node_table(graph) == node_table(zipped)
    assert graph.counts() == zipped.counts() and report.skipped == zipped_report.skipped


def test_small_collection_facts():
    graph, report = read_bloodhound(SMALL)
    table = node_table(graph)
    alice, weird, bob = sid(1101), sid(1102), sid(1103)
    # names and texts that look like Cypher or carry quotes/unicode are plain data, unchanged
    assert table[weird]["name"] == "x'}) DETACH DELETE n //"
    assert table[weird]["displayname"] == 'Zoë Ωmega 🐉 "quoted" `tick` \\ back'
    assert table[weird]["description"] == "MATCH (n) DETACH DELETE n; RETURN '1' // \n new line"
    assert "weird" not in table[weird] and table[weird]["nested_flat"] == 3  # mixed list dropped, dict flattened
    # password attributes become a flag, the secret itself goes nowhere
    assert table[alice]["has_userpassword"] is True and "userpassword" not in table[alice]
    assert "hunter2" not in repr(table)
    assert sid(1199) not in table and report.skipped["object marked IsDeleted"] == 1
    # duplicates merged, first value kept, both counted
    assert table[sid(1200)]["description"] == "first copy"
    assert report.merged["duplicate objects (same ObjectIdentifier) merged"] == 2
    assert report.merged["conflicting property values in duplicate objects (first kept)"] == 1
    assert any("meta.count is 6 but data has 7" in w for w in report.warnings)
    # placeholders: kind from the reference or from what the relationship implies
    placeholders = {i: row["kind"] for i, row in table.items() if row["placeholder"]}
    assert placeholders == {sid(9999): "User", sid(1300): "Group", sid(515): "Group",
                            "S-1-5-21-7-8-9": "Domain", "S-1-5-21-4-5-6": "Domain"}
    assert report.placeholders_by_kind == {"User": 1, "Group": 2, "Domain": 2}
    assert table["S-1-5-21-7-8-9"]["name"] == "OTHER.LOCAL"
    # DCSync only for both rights held directly
    assert edge_pairs(graph, "DCSync") == {(sid(1300), D), ("CORP.LOCAL-S-1-5-32-544", D)}
    assert (bob, D) in edge_pairs(graph, "GetChanges") and (sid(1200), D) in edge_pairs(graph, "GetChangesAll")
    # local groups, GPO-granted admin, sessions seen twice, failed collections
    assert edge_pairs(graph, "AdminTo") == {(sid(1200), sid(1001)), (bob, sid(1001))}
    admin_to = next(e for e in graph.edges if e.rel_type == "AdminTo")
    assert dict(zip(admin_to.src, admin_to.properties["via_gpo"])) == {sid(1200): False, bob: True}
    assert edge_pairs(graph, "CanRDP") == {(bob, sid(1001))}
    assert edge_pairs(graph, "HasSession") == {(sid(1001), alice)}
    assert report.skipped["results of a collection that reported Collected=false"] == 1
    assert report.skipped["machine-local principal (LocalUser/LocalGroup) is not a directory object"] == 2
    assert report.skipped["ACE grants an object rights on itself (BloodHound skips these too)"] == 2
    assert report.skipped["relationship name is not an identifier"] == 1
    assert report.skipped["file in the collection is not .json"] == 1
    # structure, delegation, trusts (trusting -> trusted), lower-case ids upper-cased
    assert edge_pairs(graph, "GPLink") == {("GPO-GUID-0001", D)}
    assert edge_pairs(graph, "Contains") == {(D, "OU-GUID-0001"), ("OU-GUID-0001", sid(1001))}
    assert edge_pairs(graph, "SQLAdmin") == {(weird, sid(1001))}
    assert edge_pairs(graph, "AllowedToAct") == {(bob, sid(1001))}
    assert edge_pairs(graph, "CrossForestTrust") == {(D, "S-1-5-21-7-8-9")}
    assert edge_pairs(graph, "SpoofSIDHistory") == {("S-1-5-21-7-8-9", D)}
    assert edge_pairs(graph, "SameForestTrust") == {(D, "S-1-5-21-4-5-6"), ("S-1-5-21-4-5-6", D)}
    assert edge_pairs(graph, "DCFor") == {(sid(1000), D)} and not edge_pairs(graph, "CoerceToTGT")
    # tier zero and entry points
    critical = {i: row["critical_reason"] for i, row in table.items() if row["critical"]}
    assert critical == {sid(512): "Domain Admins", sid(516): "Domain Controllers group", sid(502): "krbtgt account",
                        "CORP.LOCAL-S-1-5-32-544": "Administrators", sid(1000): "domain controller", D: "domain",
                        "S-1-5-21-7-8-9": "domain", "S-1-5-21-4-5-6": "domain"}
    assert {i for i, row in table.items() if row["entry_point"]} == {alice}
    graph.validate()


@pytest.mark.parametrize(("rule", "expected"), [
    ("roastable", {sid(1101)}),
    ("assume_breach", {sid(1101), sid(513), sid(515)}),
    ("enabled_users", {sid(1101), sid(1102), sid(1103)}),
])
def test_entry_point_rules(rule, expected):
    graph, _ = read_bloodhound(SMALL, entry_point_rule=rule)
    assert {i for i, row in node_table(graph).items() if row["entry_point"]} == expected


def test_unknown_entry_point_rule_is_refused():
    with pytest.raises(ValueError, match="roastable"):
        read_bloodhound(SMALL, entry_point_rule="everyone")


def test_v5_local_group_fields_and_numeric_trusts():
    computer = {"ObjectIdentifier": sid(2001), "Properties": {"name": "V5.CORP.LOCAL"},
                "LocalAdmins": {"Results": [{"ObjectIdentifier": sid(1101), "ObjectType": "User"}], "Collected": True},
                "PSRemoteUsers": {"Results": [{"ObjectIdentifier": sid(1103), "ObjectType": "User"}],
                                  "Collected": True},
                "DcomUsers": {"Results": [{"ObjectIdentifier": sid(1103), "ObjectType": "User"}], "Collected": False}}
    domain = {"ObjectIdentifier": D, "Properties": {"name": "CORP.LOCAL"},
              "Trusts": [{"TargetDomainSid": "S-1-5-21-9-9-9", "TrustDirection": 1, "TrustType": 3,
                          "SidFilteringEnabled": True, "TGTDelegationEnabled": True}]}
    docs = [("c.json", {"data": [computer], "meta": {"type": "computers", "count": 1, "version": 5}}),
            ("d.json", {"data": [domain], "meta": {"type": "domains", "count": 1, "version": 5}})]
    graph, report = parse_bloodhound(docs)
    assert edge_pairs(graph, "AdminTo") == {(sid(1101), sid(2001))}
    assert edge_pairs(graph, "CanPSRemote") == {(sid(1103), sid(2001))} and not edge_pairs(graph, "ExecuteDCOM")
    assert report.skipped["results of a collection that reported Collected=false"] == 1
    assert edge_pairs(graph, "CrossForestTrust") == {("S-1-5-21-9-9-9", D)}
    assert edge_pairs(graph, "AbuseTGTDelegation") == {("S-1-5-21-9-9-9", D)}


def test_malformed_records_are_counted_not_fatal():
    user = {"ObjectIdentifier": sid(1), "Properties": {"Last-Logon": 5, "2fa": True, "huge": 2**64, "ok": [1, 2.5],
                                                       "mixed": [True, 1], "": 1},
            "Aces": [{"RightName": "GenericAll"}, "junk", {"PrincipalSID": sid(2), "RightName": 7}],
            "Members": "not a list", "AllowedToDelegate": [{"ObjectType": "Computer"}]}
    domain = {"ObjectIdentifier": D, "Trusts": [{"TargetDomainSid": "S-1-5-21-9-9-9", "TrustDirection": "Disabled"},
                                                {"TrustDirection": "Inbound"}], "Links": [{"IsEnforced": True}]}
    docs = [("u.json", {"data": [user], "meta": {"type": "users", "count": 1, "version": 6}}),
            ("d.json", {"data": [domain], "meta": {"type": "domains", "count": 1, "version": 6}})]
    graph, report = parse_bloodhound(docs)
    props = node_table(graph)[sid(1)]
    assert props["last_logon"] == 5 and props["_2fa"] is True and props["ok"] == [1.0, 2.5]
    assert "huge" not in props and "mixed" not in props
    assert report.skipped["property value not storable (nested or mixed list, or integer beyond 64 bits)"] == 2
    assert report.skipped["property name not usable as an identifier"] == 1
    assert report.skipped["malformed record (not an object or missing identifier)"] == 7  # 3 ACEs, 4 others
    assert report.skipped["trust disabled or of unknown direction"] == 1
    assert report.skipped_examples["malformed record (not an object or missing identifier)"] == "u.json /data/0/Aces/0"
    assert graph.edge_count == 0 and set(node_table(graph)) == {sid(1), D}  # no edge, so no placeholder
    bad = {"ObjectIdentifier": sid(3), "Properties": ["not", "an", "object"]}
    with pytest.raises(GraphImportError) as info:
        parse_bloodhound([("b.json", {"data": [bad], "meta": {"type": "users", "version": 6}})])
    assert (info.value.file, info.value.position) == ("b.json", "/data/0/Properties")


def test_newer_types_are_skipped_and_counted_and_newer_versions_warned():
    docs = [("s.json", {"data": [{"ObjectIdentifier": "SITE-1"}], "meta": {"type": "sites", "version": 6}}),
            ("u.json", {"data": [{"ObjectIdentifier": sid(1)}], "meta": {"type": "users", "count": 1, "version": 7}})]
    graph, report = parse_bloodhound(docs)
    assert report.skipped["collection type not modelled (sites)"] == 1
    assert any("newer than v6" in w for w in report.warnings) and graph.node_count == 1


# ---- bad input: a clear GraphImportError naming the file and the position, nothing returned ----

def error_of(path, **kwargs) -> GraphImportError:
    with pytest.raises(GraphImportError) as info:
        read_bloodhound(path, **kwargs)
    return info.value


def test_truncated_zip(sample_zip, tmp_path):
    truncated = tmp_path / "truncated.zip"
    data = sample_zip.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    error = error_of(truncated)
    assert error.file == str(truncated) and "not a readable ZIP archive" in error.message


def test_corrupt_zip_member(sample_zip, tmp_path):
    data = bytearray(sample_zip.read_bytes())
    with zipfile.ZipFile(sample_zip) as archive:
        info = archive.getinfo("20240305110018_users.json")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(start + 100, start + 400):
        data[offset] ^= 0x5A
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(bytes(data))
    error = error_of(corrupt)
    assert error.file == f"{corrupt}!20240305110018_users.json" and "truncated or corrupt" in error.message


def test_not_a_zip_and_missing_and_empty(tmp_path):
    fake = tmp_path / "collection.zip"
    fake.write_text("this is not a zip")
    assert "not a readable ZIP archive" in error_of(fake).message
    assert error_of(tmp_path / "nowhere.zip").message == "does not exist"
    (tmp_path / "empty").mkdir()
    assert "no SharpHound .json files" in error_of(tmp_path / "empty").message


def test_invalid_json_names_file_line_and_column(tmp_path):
    error = error_of(DATA / "invalid_json")
    assert error.file.endswith("invalid_json/20250101000000_users.json")
    assert error.position == "line 3 column 35" and "Expecting ',' delimiter" in error.message
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(DATA / "invalid_json" / "20250101000000_users.json", "sub/users.json")
    error = error_of(archive)
    assert error.file == f"{archive}!sub/users.json" and error.position == "line 3 column 35"


@pytest.mark.parametrize(("name", "position", "fragment"), [
    ("unknown_meta_type.json", "/meta/type", "unknown meta.type 'azure'"),
    ("old_version.json", "/meta/version", "v3 is not supported"),
    ("missing_objectid.json", "/data/1/ObjectIdentifier", "missing or empty ObjectIdentifier"),
    ("not_sharphound.json", "/meta", "not a SharpHound file"),
])
def test_bad_files(name, position, fragment):
    error = error_of(DATA / name)
    assert error.file == str(DATA / name) and error.position == position and fragment in error.message
    assert str(error).startswith(f"{DATA / name}: {position}: ")


def test_one_id_with_two_kinds_is_an_error():
    error = error_of(DATA / "kind_conflict")
    assert error.file.endswith("20250101_users.json") and error.position == "/data/0"
    assert "is a User here but a Group at" in error.message and "20250101_groups.json" in error.message


def test_failed_import_leaves_no_trace(tmp_path):
    collection = tmp_path / "collection"
    shutil.copytree(SMALL, collection)
    (collection / "zz_users.json").write_text('{"data": [], "meta": {"type": "azure"}}')
    before = sorted((p.relative_to(tmp_path), p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    with pytest.raises(GraphImportError):
        read_bloodhound(collection)
    assert sorted((p.relative_to(tmp_path), p.stat().st_mtime_ns) for p in tmp_path.rglob("*")) == before


def test_zip_in_memory_members_are_read_in_name_order(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(SMALL.iterdir(), reverse=True):
            zf.write(path, path.name)
        zf.writestr("__MACOSX/._junk.json", b"\x00\x01")
    archive = tmp_path / "small.zip"
    archive.write_bytes(buffer.getvalue())
    graph, report = read_bloodhound(archive)
    directory_graph, _ = read_bloodhound(SMALL)
    assert node_table(graph) == node_table(directory_graph)
    assert [f["file"].split("!")[1] for f in report.files] == sorted(p.name for p in SMALL.glob("*.json"))
    assert np.array_equal(graph.nodes[0].ids, directory_graph.nodes[0].ids)


def test_a_single_json_file_is_a_collection_too():
    graph, report = read_bloodhound(SMALL / "20250101000000_groups.json")
    assert [f["type"] for f in report.files] == ["groups"]
    assert report.nodes_by_kind == {"Group": 5, "User": 3, "Computer": 1}
    assert report.placeholders_by_kind == {"User": 3, "Computer": 1}
