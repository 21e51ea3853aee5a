"""Independent GeoIP answers for the tests (tests/geoip.rs), from real data
installed from the npm registry by .ci/run:

  country IPS...   the country of each address, read from the ip-location-db
                   country mmdb with MaxMind's own Python reader (maxminddb)
  asn CSV OUT IPS...
                   the ASN and organisation of each address, by a plain scan
                   of ip-location-db's ASN CSV; and OUT, an mmdb of just the
                   CSV rows that hold them, written with mmdb-writer (the npm
                   package has the ASN data as CSV only)

Prints one JSON object: address -> answer.
"""
import csv
import ipaddress
import json
import sys


def country(db, ips):
    import maxminddb
    out = {}
    with maxminddb.open_database(db) as reader:
        for ip in ips:
            rec = reader.get(ip)
            out[ip] = rec.get("country_code") if rec else None
    return out


def asn(csv_path, mmdb_out, ips):
    addrs = {ip: ipaddress.ip_address(ip) for ip in ips}
    found, rows = {ip: None for ip in ips}, []
    with open(csv_path, newline="") as f:
        for start, end, number, org in csv.reader(f):
            lo, hi = ipaddress.ip_address(start), ipaddress.ip_address(end)
            hit = [ip for ip, a in addrs.items() if a.version == lo.version and lo <= a <= hi]
            if hit:
                rows.append((lo, hi, int(number), org))
                for ip in hit:
                    found[ip] = {"asn": int(number), "org": org}
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet, IPRange
    writer = MMDBWriter(ip_version=6, database_type="ip-location-db-asn-subset", ipv4_compatible=True)
    for lo, hi, number, org in rows:
        writer.insert_network(IPSet(IPRange(str(lo), str(hi))),
                              {"autonomous_system_number": number, "autonomous_system_organization": org})
    writer.to_db_file(mmdb_out)
    return found


if __name__ == "__main__":
    if sys.argv[1] == "country":
        print(json.dumps(country(sys.argv[2], sys.argv[3:])))
    else:
        print(json.dumps(asn(sys.argv[2], sys.argv[3], sys.argv[4:])))
