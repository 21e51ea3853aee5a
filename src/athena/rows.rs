//! A result row of the report query ([`super::sql`]) put back into the
//! CloudTrail record it was read from (the fields the events frame reads),
//! so that the same parser, filters, redaction and reports as `--logs` turn
//! it into the events frame.

use serde_json::{Map, Value};

use super::sql::{FIELDS, TRUST_PAYLOAD};

/// Where each result column goes, by the columns' names in the result.
pub struct RowShape {
    /// For each result column: its field, if it is one of ours.
    slots: Vec<Option<&'static str>>,
}

impl RowShape {
    /// The shape of a result whose columns are `names` (Athena's header);
    /// an error names a column the query asked for and did not get.
    pub fn new(names: &[String]) -> Result<RowShape, String> {
        let known = |n: &str| {
            FIELDS
                .iter()
                .map(|f| f.name)
                .chain([TRUST_PAYLOAD])
                .find(|k| k.eq_ignore_ascii_case(n))
        };
        let slots: Vec<Option<&'static str>> = names.iter().map(|n| known(n)).collect();
        for want in FIELDS.iter().map(|f| f.name).chain([TRUST_PAYLOAD]) {
            if !slots.contains(&Some(want)) {
                return Err(format!("the result has no column {want}"));
            }
        }
        Ok(RowShape { slots })
    }

    /// The record of one row (`None` cells are SQL nulls), as JSON text.
    pub fn record(&self, cells: &[Option<&str>]) -> String {
        let mut get = std::collections::HashMap::new();
        for (slot, cell) in self.slots.iter().zip(cells) {
            if let (Some(name), Some(v)) = (slot, cell) {
                get.insert(*name, *v);
            }
        }
        let text = |name: &str| get.get(name).map(|v| Value::String(v.to_string()));
        let mut rec = Map::new();
        let put = |map: &mut Map<String, Value>, key: &str, field: &str| {
            if let Some(v) = text(field) {
                map.insert(key.to_string(), v);
            }
        };
        for (key, field) in [
            ("eventVersion", "eventversion"),
            ("eventTime", "eventtime"),
            ("eventID", "eventid"),
            ("eventName", "eventname"),
            ("eventSource", "eventsource"),
            ("eventType", "eventtype"),
            ("eventCategory", "eventcategory"),
            ("awsRegion", "awsregion"),
            ("sourceIPAddress", "sourceipaddress"),
            ("userAgent", "useragent"),
            ("errorCode", "errorcode"),
            ("errorMessage", "errormessage"),
            ("requestID", "requestid"),
            ("recipientAccountId", "recipientaccountid"),
            ("readOnly", "readonly"),
        ] {
            put(&mut rec, key, field);
        }
        let mut identity = Map::new();
        for (key, field) in [
            ("type", "identity_type"),
            ("principalId", "identity_principalid"),
            ("arn", "identity_arn"),
            ("accountId", "identity_accountid"),
            ("accessKeyId", "identity_accesskeyid"),
            ("userName", "identity_username"),
            ("invokedBy", "identity_invokedby"),
            ("identityProvider", "identity_identityprovider"),
        ] {
            put(&mut identity, key, field);
        }
        let mut context = Map::new();
        let mut issuer = Map::new();
        put(&mut issuer, "arn", "issuer_arn");
        put(&mut issuer, "type", "issuer_type");
        if !issuer.is_empty() {
            context.insert("sessionIssuer".into(), Value::Object(issuer));
        }
        let mut federation = Map::new();
        put(&mut federation, "federatedProvider", "federated_provider");
        if !federation.is_empty() {
            context.insert("webIdFederationData".into(), Value::Object(federation));
        }
        if !context.is_empty() {
            identity.insert("sessionContext".into(), Value::Object(context));
        }
        if !identity.is_empty() {
            rec.insert("userIdentity".into(), Value::Object(identity));
        }
        // The request: a trust change's whole payload (JSON text, as the
        // trail's own string form is read), else the assumption's fields.
        if let Some(payload) = get.get(TRUST_PAYLOAD) {
            rec.insert(
                "requestParameters".into(),
                Value::String(payload.to_string()),
            );
        } else {
            let mut request = Map::new();
            put(&mut request, "roleArn", "request_rolearn");
            put(&mut request, "roleSessionName", "request_rolesessionname");
            put(&mut request, "durationSeconds", "request_durationseconds");
            if !request.is_empty() {
                rec.insert("requestParameters".into(), Value::Object(request));
            }
        }
        let mut response = Map::new();
        if let Some(key) = text("response_accesskeyid") {
            response.insert(
                "credentials".into(),
                Value::Object(Map::from_iter([("accessKeyId".to_string(), key)])),
            );
        }
        put(
            &mut response,
            "subjectFromWebIdentityToken",
            "response_subject",
        );
        put(&mut response, "audience", "response_audience");
        put(&mut response, "provider", "response_provider");
        if let Some(arn) = text("response_assumedrolearn") {
            response.insert(
                "assumedRoleUser".into(),
                Value::Object(Map::from_iter([("arn".to_string(), arn)])),
            );
        }
        if !response.is_empty() {
            rec.insert("responseElements".into(), Value::Object(response));
        }
        // The resources' ARNs, joined by commas as the events frame keeps
        // them: one resource with the joined text gives the same column.
        if let Some(arns) = get.get("resource_arns").filter(|a| !a.is_empty()) {
            rec.insert("resources".into(), serde_json::json!([{ "ARN": arns }]));
        }
        Value::Object(rec).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Vec<String> {
        FIELDS
            .iter()
            .map(|f| f.name.to_uppercase())
            .chain([TRUST_PAYLOAD.to_string()])
            .collect()
    }

    #[test]
    fn a_row_becomes_the_record_it_came_from() {
        let shape = RowShape::new(&header()).unwrap();
        let mut cells: Vec<Option<&str>> = vec![None; FIELDS.len() + 1];
        let set = |cells: &mut Vec<Option<&str>>, name: &str, v: &'static str| {
            let at = FIELDS.iter().position(|f| f.name == name).unwrap();
            cells[at] = Some(v);
        };
        set(&mut cells, "eventname", "AssumeRoleWithWebIdentity");
        set(&mut cells, "identity_type", "WebIdentityUser");
        set(&mut cells, "federated_provider", "arn:p");
        set(&mut cells, "request_rolearn", "arn:aws:iam::1:role/r");
        set(&mut cells, "request_durationseconds", "900");
        set(&mut cells, "response_accesskeyid", "ASIAX");
        set(
            &mut cells,
            "response_subject",
            "repo:o/r:ref:refs/heads/main",
        );
        let rec: Value = serde_json::from_str(&shape.record(&cells)).unwrap();
        assert_eq!(rec["eventName"], "AssumeRoleWithWebIdentity");
        assert_eq!(
            rec["userIdentity"]["sessionContext"]["webIdFederationData"]["federatedProvider"],
            "arn:p"
        );
        assert_eq!(rec["requestParameters"]["durationSeconds"], "900");
        assert_eq!(
            rec["responseElements"]["credentials"]["accessKeyId"],
            "ASIAX"
        );
        assert!(rec.get("errorCode").is_none());
        // A trust change brings its payload whole.
        let last = cells.len() - 1;
        cells[last] = Some(r#"{"roleName":"r"}"#);
        let rec: Value = serde_json::from_str(&shape.record(&cells)).unwrap();
        assert_eq!(rec["requestParameters"], r#"{"roleName":"r"}"#);
        // A result without a column asked for is refused, by name.
        let e = RowShape::new(&header()[1..]).err().unwrap();
        assert!(e.contains("eventversion"), "{e}");
    }
}
