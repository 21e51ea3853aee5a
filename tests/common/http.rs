//! The HTTP/1.1 plumbing of the loopback AWS endpoints (`fake_aws`,
//! `fake_athena`): requests read one after another on kept-alive
//! connections, each answered by the endpoint's handler.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

/// One request.
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

pub fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn serve(
    conn: TcpStream,
    answer: &(dyn Fn(&Request) -> (u16, &'static str, String) + Send + Sync),
) {
    let mut writer = conn.try_clone().expect("clone stream");
    let mut reader = BufReader::new(conn);
    while let Some(req) = read_request(&mut reader) {
        let (status, content_type, body) = answer(&req);
        let head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amzn-RequestId: fake\r\n\r\n",
            if status == 200 { "OK" } else { "Error" },
            body.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(body.as_bytes()).is_err()
        {
            return;
        }
    }
}

/// Serves `answer` on a free loopback port until the process ends; returns
/// the port.
pub fn listen(
    answer: impl Fn(&Request) -> (u16, &'static str, String) + Send + Sync + 'static,
) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("address").port();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let answer = answer.clone();
            std::thread::spawn(move || serve(conn, &*answer));
        }
    });
    port
}

/// The region and service of the SigV4 credential scope.
pub fn scope(req: &Request) -> (String, String) {
    let auth = req
        .headers
        .get("authorization")
        .cloned()
        .unwrap_or_default();
    let credential = auth
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split(',').next())
        .unwrap_or("");
    let parts: Vec<&str> = credential.split('/').collect();
    match parts.as_slice() {
        [_, _, region, service, ..] => (region.to_string(), service.to_string()),
        _ => ("us-east-1".into(), String::new()),
    }
}
