//! A file server on loopback for the tests of stores reached over HTTP (shared by kpi-core's and
//! kpi-executor's integration tests, which include this file).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

/// A file server on loopback with what object stores over HTTP need: `HEAD` for the size,
/// `GET` with byte ranges (`bytes=a-b`, `bytes=a-`, `bytes=-n`), and for writing `PUT` (parent
/// directories made as needed) and `DELETE`.
pub struct FileServer {
    pub port: u16,
}

impl FileServer {
    pub fn start(root: PathBuf) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                std::thread::spawn(move || serve(stream, &root));
            }
        });
        FileServer { port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }
}

fn serve(stream: TcpStream, root: &Path) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("/").to_string());
        let mut range = None;
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("range") {
                    range = Some(value.trim().trim_start_matches("bytes=").to_string());
                } else if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let path = root.join(target.trim_start_matches('/'));
        if method == "PUT" {
            let mut body = vec![0; length];
            std::io::Read::read_exact(&mut reader, &mut body).unwrap();
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, body).unwrap();
            let _ = out.write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
            continue;
        }
        if method == "DELETE" {
            let status = if std::fs::remove_file(&path).is_ok() { "204 No Content" } else { "404 Not Found" };
            let _ = out.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes());
            continue;
        }
        let Ok(body) = std::fs::read(&path) else {
            let _ = out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            continue;
        };
        let size = body.len();
        let (status, start, end) = match range.as_deref().and_then(|r| r.split_once('-')) {
            Some(("", n)) => ("206 Partial Content", size - n.parse::<usize>().unwrap().min(size), size),
            Some((a, "")) => ("206 Partial Content", a.parse().unwrap(), size),
            Some((a, b)) => ("206 Partial Content", a.parse().unwrap(), (b.parse::<usize>().unwrap() + 1).min(size)),
            None => ("200 OK", 0, size),
        };
        let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", end - start);
        if status.starts_with("206") {
            head.push_str(&format!("Content-Range: bytes {start}-{}/{size}\r\n", end - 1));
        }
        head.push_str("\r\n");
        let _ = out.write_all(head.as_bytes());
        if method != "HEAD" {
            let _ = out.write_all(&body[start..end]);
        }
    }
}
