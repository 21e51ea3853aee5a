//! S3 trails and the CloudTrail API in the state.
//!
//! S3: per URL, how far the last listing reached and the objects (key and
//! ETag) of the day folders a late delivery can still land in. The next
//! run lists from the day before that point on (CloudTrail files land in
//! the folder of their delivery, minutes after their events) and downloads
//! only the objects it does not hold with the same ETag.
//!
//! API: per account and region, the newest event time read and the ids of
//! the events in the last [`API_OVERLAP_MS`] before it. The next run asks
//! from that much before the newest event (events reach LookupEvents up to
//! about 15 minutes late) and passes over the events it already read.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::time::{MS_PER_DAY, Millis};

/// How far before the newest event read the next API pull starts.
pub const API_OVERLAP_MS: Millis = 30 * 60_000;

/// How far before the last listing the next S3 listing starts.
pub const S3_RELIST_MS: Millis = MS_PER_DAY;

/// One S3 URL's reading.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Mark {
    /// The end of the window the last listing covered; `None` when the
    /// next run must list everything again (a failure on a first run).
    #[serde(with = "super::history::rfc3339_opt", default)]
    pub listed_until: Option<Millis>,
    /// Object key → ETag, for the objects read in the folders the next
    /// listing covers again.
    #[serde(default)]
    pub objects: BTreeMap<String, String>,
}

impl S3Mark {
    /// Where the next listing starts.
    pub fn relist_from(&self) -> Option<Millis> {
        self.listed_until.map(|t| t - S3_RELIST_MS)
    }
}

/// One account and region's API reading.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiMark {
    /// The newest event time read.
    #[serde(with = "super::history::rfc3339")]
    pub newest: Millis,
    /// Ids of the events read in the overlap before `newest`.
    #[serde(default)]
    pub recent: BTreeSet<String>,
}

impl ApiMark {
    /// Where the next pull starts.
    pub fn resume_from(&self) -> Millis {
        self.newest - API_OVERLAP_MS
    }

    /// The mark after a pull that read `events` (id and time, those
    /// passed over as already read included): every event of the previous
    /// overlap was asked for again, so the new overlap's ids are all among
    /// them.
    pub fn after(previous: Option<&ApiMark>, events: &[(String, Millis)]) -> Option<ApiMark> {
        let Some(newest) = events.iter().map(|(_, t)| *t).max() else {
            return previous.cloned();
        };
        let newest = previous.map_or(newest, |p| p.newest.max(newest));
        let from = newest - API_OVERLAP_MS;
        let recent = events
            .iter()
            .filter(|(_, t)| *t >= from)
            .map(|(id, _)| id.clone())
            .collect();
        Some(ApiMark { newest, recent })
    }
}
