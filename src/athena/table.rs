//! The CloudTrail table ctaudit queries on Athena: the full record schema
//! as AWS documents it (nested structs for `useridentity`, payloads as JSON
//! text), read by the CloudTrail input format, and partition projection
//! over account × region × day, so that no partition is ever added by hand
//! and a query reads only the days of its window.
//!
//! Accounts and regions are `enum` projections (the values listed in the
//! table, from the trail's S3 folders or as given): every report query
//! covers all of them, and an `injected` projection would demand each
//! value in every query's WHERE clause. The day is a `date` projection
//! (`yyyy/MM/dd`, the trail's folder layout) from the first day given to
//! `NOW`, so new days need nothing. A query's partitions are accounts ×
//! regions × days of its window; `--max-scan` lists their folders before a
//! query is sent ([`super::scan`]).

use std::fmt::Write;

/// What the table is made of.
#[derive(Debug, Clone)]
pub struct TableSpec {
    pub database: String,
    pub table: String,
    /// `s3://bucket/AWSLogs/o-org/` (an organisation trail: accounts under
    /// it) or `s3://bucket/AWSLogs/` (account folders directly under it).
    pub location: String,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// The first day projected, `YYYY/MM/DD`.
    pub first_day: String,
}

/// The record's columns: Athena's names (lower case) and Hive types, in
/// AWS's documented order. `identityprovider` is in CloudTrail's records
/// of web-identity calls and in CloudTrail Lake's schema, though not in
/// the Athena guide's table.
pub const COLUMNS: &[(&str, &str)] = &[
    ("eventversion", "STRING"),
    (
        "useridentity",
        "STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING, \
         invokedby: STRING, accesskeyid: STRING, username: STRING, identityprovider: STRING, \
         onbehalfof: STRUCT<userid: STRING, identitystorearn: STRING>, \
         sessioncontext: STRUCT<attributes: STRUCT<mfaauthenticated: STRING, creationdate: STRING>, \
         sessionissuer: STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING, username: STRING>, \
         ec2roledelivery: STRING, \
         webidfederationdata: STRUCT<federatedprovider: STRING, attributes: MAP<STRING, STRING>>, \
         sourceidentity: STRING>>",
    ),
    ("eventtime", "STRING"),
    ("eventsource", "STRING"),
    ("eventname", "STRING"),
    ("awsregion", "STRING"),
    ("sourceipaddress", "STRING"),
    ("useragent", "STRING"),
    ("errorcode", "STRING"),
    ("errormessage", "STRING"),
    ("requestparameters", "STRING"),
    ("responseelements", "STRING"),
    ("additionaleventdata", "STRING"),
    ("requestid", "STRING"),
    ("eventid", "STRING"),
    ("readonly", "STRING"),
    (
        "resources",
        "ARRAY<STRUCT<arn: STRING, accountid: STRING, type: STRING>>",
    ),
    ("eventtype", "STRING"),
    ("apiversion", "STRING"),
    ("recipientaccountid", "STRING"),
    ("serviceeventdetails", "STRING"),
    ("sharedeventid", "STRING"),
    ("vpcendpointid", "STRING"),
    ("vpcendpointaccountid", "STRING"),
    ("eventcategory", "STRING"),
    (
        "addendum",
        "STRUCT<reason: STRING, updatedfields: STRING, originalrequestid: STRING, originaleventid: STRING>",
    ),
    ("sessioncredentialfromconsole", "STRING"),
    ("edgedevicedetails", "STRING"),
    (
        "tlsdetails",
        "STRUCT<tlsversion: STRING, ciphersuite: STRING, clientprovidedhostheader: STRING>",
    ),
];

/// The partition columns: the account and region folders, and the day.
pub const PARTITIONS: [&str; 3] = ["account", "region", "day"];

impl TableSpec {
    /// `CREATE EXTERNAL TABLE` with partition projection.
    pub fn ddl(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "CREATE EXTERNAL TABLE IF NOT EXISTS {}.{} (",
            hive_identifier(&self.database),
            hive_identifier(&self.table)
        );
        for (i, (name, ty)) in COLUMNS.iter().enumerate() {
            let comma = if i + 1 < COLUMNS.len() { "," } else { "" };
            let _ = writeln!(s, "  {name} {ty}{comma}");
        }
        let location = self.location.trim_end_matches('/');
        let _ = writeln!(
            s,
            ")\nPARTITIONED BY (account STRING, region STRING, day STRING)\n\
             ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'\n\
             STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'\n\
             OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n\
             LOCATION '{}/'\nTBLPROPERTIES (",
            sql_text(location)
        );
        let props = [
            ("projection.enabled", "true".to_string()),
            ("projection.account.type", "enum".to_string()),
            ("projection.account.values", self.accounts.join(",")),
            ("projection.region.type", "enum".to_string()),
            ("projection.region.values", self.regions.join(",")),
            ("projection.day.type", "date".to_string()),
            ("projection.day.format", "yyyy/MM/dd".to_string()),
            ("projection.day.range", format!("{},NOW", self.first_day)),
            ("projection.day.interval", "1".to_string()),
            ("projection.day.interval.unit", "DAYS".to_string()),
            (
                "storage.location.template",
                format!("{location}/${{account}}/CloudTrail/${{region}}/${{day}}"),
            ),
        ];
        for (i, (k, v)) in props.iter().enumerate() {
            let comma = if i + 1 < props.len() { "," } else { "" };
            let _ = writeln!(s, "  '{k}'='{}'{comma}", sql_text(v));
        }
        s.push(')');
        s
    }
}

/// `"database"."table"`, each part quoted as a Trino identifier.
pub fn qualified(database: &str, table: &str) -> String {
    format!("{}.{}", identifier(database), identifier(table))
}

/// A Hive identifier (Athena's DDL) in backticks (a backtick inside
/// doubled).
pub fn hive_identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A Trino identifier (Athena's queries) in double quotes (a quote inside
/// doubled).
pub fn identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Text for inside single quotes (a quote inside doubled).
pub fn sql_text(text: &str) -> String {
    text.replace('\'', "''")
}

/// Checks names given for the table's lists: account ids are 12 digits,
/// regions lower-case words and digits joined by dashes (no comma could
/// then split a value, no quote end the DDL's text).
pub fn check_values(accounts: &[String], regions: &[String]) -> Result<(), String> {
    if let Some(a) = accounts
        .iter()
        .find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("{a:?} is not an AWS account id (12 digits)"));
    }
    if let Some(r) = regions.iter().find(|r| {
        r.is_empty()
            || !r
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }) {
        return Err(format!("{r:?} is not an AWS region name"));
    }
    if accounts.is_empty() || regions.is_empty() {
        return Err("the table needs at least one account and one region".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> TableSpec {
        TableSpec {
            database: "audit".into(),
            table: "cloudtrail".into(),
            location: "s3://org-trail/AWSLogs/o-abc123/".into(),
            accounts: vec!["111122223333".into(), "444455556666".into()],
            regions: vec!["eu-west-1".into(), "us-east-1".into()],
            first_day: "2026/01/01".into(),
        }
    }

    #[test]
    fn the_table_projects_accounts_regions_and_days() {
        let ddl = spec().ddl();
        assert!(ddl.starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS `audit`.`cloudtrail` ("));
        for want in [
            "'projection.account.values'='111122223333,444455556666'",
            "'projection.region.values'='eu-west-1,us-east-1'",
            "'projection.day.range'='2026/01/01,NOW'",
            "'storage.location.template'='s3://org-trail/AWSLogs/o-abc123/${account}/CloudTrail/${region}/${day}'",
            "LOCATION 's3://org-trail/AWSLogs/o-abc123/'",
            "webidfederationdata: STRUCT<federatedprovider: STRING",
            "  tlsdetails STRUCT<tlsversion: STRING",
            "PARTITIONED BY (account STRING, region STRING, day STRING)",
        ] {
            assert!(ddl.contains(want), "{want}\n{ddl}");
        }
        assert!(ddl.ends_with(')'));
    }

    #[test]
    fn names_and_values_cannot_escape_their_quotes() {
        let mut s = spec();
        s.table = "a`b".into();
        s.location = "s3://b/x'y/".into();
        let ddl = s.ddl();
        assert!(ddl.contains("`a``b`"));
        assert_eq!(qualified("d", "t\"x"), "\"d\".\"t\"\"x\"");
        assert!(ddl.contains("LOCATION 's3://b/x''y/'"));
        assert!(check_values(&["1111".into()], &["us-east-1".into()]).is_err());
        assert!(check_values(&["111122223333".into()], &["us-east-1','x".into()]).is_err());
        assert!(check_values(&["111122223333".into()], &["us-east-1".into()]).is_ok());
    }
}
