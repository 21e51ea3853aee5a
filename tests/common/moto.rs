//! moto's server (PyPI `moto[server]`), a real S3-compatible endpoint on
//! loopback, started per test with request recording on, so tests can
//! count what ctaudit asked for.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Moto {
    pub port: u16,
    child: Child,
    recording: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request moto saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// The path, percent-decoded (`/bucket/key`).
    pub path: String,
    /// The query parameters, percent-decoded.
    pub query: Vec<(String, String)>,
}

impl Seen {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A `ListObjectsV2` request: its prefix.
    pub fn listed_prefix(&self) -> Option<&str> {
        (self.method == "GET" && self.param("list-type") == Some("2"))
            .then(|| self.param("prefix").unwrap_or(""))
    }
}

impl Moto {
    /// Starts moto, or says why the test is skipped and returns `None`.
    /// With `CTAUDIT_REQUIRE_MOTO=1` (as `.ci/run` sets) a missing moto is a
    /// failure, not a skip.
    pub fn start(test: &str) -> Option<Moto> {
        let has_moto = Command::new("python3")
            .args(["-c", "import moto.server, flask"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has_moto {
            assert!(
                std::env::var_os("CTAUDIT_REQUIRE_MOTO").is_none(),
                "{test}: moto's server is required (pip install 'moto[server]')"
            );
            eprintln!(
                "SKIPPED {test}: moto's server is not installed (pip install 'moto[server]'; .ci/run installs it)"
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let recording = dir.path().join("requests.jsonl");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .env("MOTO_ENABLE_RECORDING", "True")
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto starts");
        let moto = Moto {
            port,
            child,
            recording,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Forgets the requests seen so far: once moto has finished writing
    /// down the last run's (it records behind the answers; on a loaded
    /// machine a late record would land after a reset), the file is emptied
    /// in place.
    pub fn reset_recording(&self) {
        let size = || std::fs::metadata(&self.recording).map_or(0, |m| m.len());
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut last = size();
        loop {
            std::thread::sleep(Duration::from_millis(150));
            let now = size();
            if now == last || Instant::now() > deadline {
                break;
            }
            last = now;
        }
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&self.recording);
    }

    /// The requests seen since the last reset.
    pub fn seen(&self) -> Vec<Seen> {
        let text = std::fs::read_to_string(&self.recording).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| {
                let url = v["url"].as_str().unwrap_or("").to_string();
                let after_host = url.splitn(4, '/').nth(3).unwrap_or("");
                let (path, query) = after_host.split_once('?').unwrap_or((after_host, ""));
                Seen {
                    method: v["method"].as_str().unwrap_or("").to_string(),
                    path: format!("/{}", decode(path)),
                    query: query
                        .split('&')
                        .filter(|kv| !kv.is_empty())
                        .map(|kv| {
                            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                            (decode(k), decode(v))
                        })
                        .collect(),
                }
            })
            .collect()
    }

    /// Creates `bucket` and uploads every file under `dir`, keyed by its
    /// path relative to `dir`.
    pub fn upload_dir(&self, bucket: &str, dir: &Path) {
        let mut files = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("dir") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let key = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
                    files.push((key, std::fs::read(&p).expect("file")));
                }
            }
        }
        self.put(bucket, &files);
    }

    /// An IAM client of this server, for setting up a test.
    pub fn iam(&self) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::config::Builder::new()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .http_client(ctaudit::aws::https_client())
            .endpoint_url(self.url())
            .region(aws_sdk_iam::config::Region::new("us-east-1"))
            .credentials_provider(credentials())
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    /// Creates `bucket` (if needed) and puts these objects.
    pub fn put(&self, bucket: &str, objects: &[(String, Vec<u8>)]) {
        block_on(async {
            let conf = aws_sdk_s3::config::Builder::new()
                .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
                .http_client(ctaudit::aws::https_client())
                .endpoint_url(self.url())
                .region(aws_sdk_s3::config::Region::new("us-east-1"))
                .credentials_provider(credentials())
                .force_path_style(true)
                .build();
            let s3 = aws_sdk_s3::Client::from_conf(conf);
            let _ = s3.create_bucket().bucket(bucket).send().await;
            for (key, body) in objects {
                s3.put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(body.clone().into())
                    .send()
                    .await
                    .expect("put object");
            }
        });
    }
}

/// Test credentials (moto accepts any).
fn credentials() -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "test")
}

/// Runs one future to its end on a runtime of its own.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Percent-decoding, as ctaudit does it for IAM's documents.
fn decode(s: &str) -> String {
    ctaudit::trust::source::percent_decode(s)
}
