//! Requests spaced per region, and the progress line while pages arrive.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// Spaces one region's requests at least `interval` apart.
pub struct Pacer {
    interval: Duration,
    next: tokio::sync::Mutex<Instant>,
}

impl Pacer {
    pub fn new(interval: Duration) -> Self {
        Pacer {
            interval,
            next: tokio::sync::Mutex::new(Instant::now()),
        }
    }

    /// Waits for this request's turn.
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// Pages and events per region on stderr, redrawn on one line, when stderr
/// is a terminal.
#[derive(Clone)]
pub(super) struct Progress {
    shared: Option<Arc<ProgressShared>>,
}

struct ProgressShared {
    regions: Mutex<BTreeMap<String, (u64, u64)>>,
    stop: Mutex<Option<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>>,
}

impl Progress {
    pub(super) fn start(regions: &[String]) -> Self {
        if !std::io::stderr().is_terminal() {
            return Progress { shared: None };
        }
        let shared = Arc::new(ProgressShared {
            regions: Mutex::new(regions.iter().map(|r| (r.clone(), (0, 0))).collect()),
            stop: Mutex::new(None),
        });
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let drawing = shared.clone();
        let handle = std::thread::spawn(move || {
            while stop_rx.recv_timeout(Duration::from_millis(500)).is_err() {
                let regions = drawing.regions.lock().expect("progress lock");
                let parts: Vec<String> = regions
                    .iter()
                    .map(|(r, (p, e))| format!("{r}: {p} pages, {e} events"))
                    .collect();
                eprint!("\r\x1b[Kctaudit: LookupEvents {}", parts.join(" · "));
            }
            eprint!("\r\x1b[K");
        });
        *shared.stop.lock().expect("progress lock") = Some((stop_tx, handle));
        Progress {
            shared: Some(shared),
        }
    }

    pub(super) fn page(&self, region: &str, events: usize) {
        if let Some(shared) = &self.shared {
            let mut regions = shared.regions.lock().expect("progress lock");
            let entry = regions.entry(region.to_string()).or_default();
            entry.0 += 1;
            entry.1 += events as u64;
        }
    }

    /// Clears the line (before the report is printed).
    pub(super) fn stop(&self) {
        let taken = self
            .shared
            .as_ref()
            .and_then(|s| s.stop.lock().expect("progress lock").take());
        if let Some((tx, handle)) = taken {
            let _ = tx.send(());
            let _ = handle.join();
        }
    }
}
