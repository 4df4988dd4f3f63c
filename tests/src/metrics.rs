//! A scraper for the metrics endpoint: one HTTP/1.1 request over a plain
//! `TcpStream`, every read and write bounded by [`DEADLINE`], and the
//! samples of the text exposition format looked up by series.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use anyhow::{Context, bail};

use crate::DEADLINE;

/// A response: its status, its head (lower-cased) and its body.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The status line and headers, lower-cased.
    pub head: String,
    /// The body, de-chunked.
    pub body: String,
}

impl Response {
    /// The value of the sample of `series` (`name` or `name{labels}`
    /// exactly as rendered), if there is one.
    pub fn sample(&self, series: &str) -> Option<f64> {
        self.body.lines().find_map(|line| {
            let value = line.strip_prefix(series)?.strip_prefix(' ')?;
            value.trim().parse().ok()
        })
    }

    /// [`Response::sample`], or an error showing the body.
    pub fn expect(&self, series: &str) -> anyhow::Result<f64> {
        self.sample(series)
            .with_context(|| format!("no sample of {series} in:\n{}", self.body))
    }
}

/// Sends `METHOD PATH HTTP/1.1` to `addr` and reads the whole response
/// (the endpoint closes each connection after one response).
pub fn http(addr: SocketAddr, method: &str, path: &str) -> anyhow::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, DEADLINE)
        .with_context(|| format!("connect to {addr}"))?;
    stream.set_read_timeout(Some(DEADLINE))?;
    stream.set_write_timeout(Some(DEADLINE))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/plain\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).context("read the response")?;
    let text = String::from_utf8(raw).context("the response is not UTF-8")?;
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        bail!("no end of head in {text:?}");
    };
    let head = head.to_ascii_lowercase();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no status in {head:?}"))?;
    let body = if head.contains("\r\ntransfer-encoding: chunked") {
        dechunk(body)?
    } else {
        body.to_owned()
    };
    Ok(Response { status, head, body })
}

/// `GET /metrics` from `addr`.
pub fn scrape(addr: SocketAddr) -> anyhow::Result<Response> {
    http(addr, "GET", "/metrics")
}

/// The body of a chunked transfer: each chunk's size in hex, its bytes,
/// until the chunk of size 0.
fn dechunk(mut rest: &str) -> anyhow::Result<String> {
    let mut body = String::new();
    loop {
        let (size, after) = rest
            .split_once("\r\n")
            .context("a chunk without its size")?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .with_context(|| format!("chunk size {size:?}"))?;
        if size == 0 {
            return Ok(body);
        }
        let chunk = after.get(..size).context("a chunk cut short")?;
        body.push_str(chunk);
        rest = after[size..]
            .strip_prefix("\r\n")
            .context("a chunk without its CRLF")?;
    }
}
