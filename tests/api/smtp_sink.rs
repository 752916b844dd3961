#![allow(clippy::unwrap_used, clippy::expect_used)]

//! A tiny SMTP server for the tests: it speaks enough of RFC 5321 for a client without TLS or
//! authentication, keeps every message it accepts, and can refuse the first N mails (451).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A mail the sink accepted: the envelope and the raw message (headers and body).
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    /// Listens on a free local port; the first `refuse` mails get `451` at `MAIL FROM`.
    pub async fn start(refuse: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(0_usize));
        let kept = mails.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (mails, refused) = (kept.clone(), refused.clone());
                tokio::spawn(async move {
                    let _ = session(socket, mails, refused, refuse).await;
                });
            }
        });
        Self { port, mails }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

async fn session(
    socket: tokio::net::TcpStream,
    mails: Arc<Mutex<Vec<Mail>>>,
    refused: Arc<Mutex<usize>>,
    refuse: usize,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut mail = Mail {
        from: String::new(),
        to: Vec::new(),
        data: String::new(),
    };
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if upper.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            let mut n = refused.lock().unwrap();
            if *n < refuse {
                *n += 1;
                b"451 4.3.0 try again later\r\n"
            } else {
                mail.from = command[10..].trim().to_owned();
                b"250 OK\r\n"
            }
        } else if upper.starts_with("RCPT TO:") {
            mail.to.push(command[8..].trim().to_owned());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(
                    line.strip_prefix('.')
                        .filter(|_| line.starts_with(".."))
                        .unwrap_or(&line),
                );
            }
            mail.data = data;
            mails.lock().unwrap().push(std::mem::replace(
                &mut mail,
                Mail {
                    from: String::new(),
                    to: Vec::new(),
                    data: String::new(),
                },
            ));
            b"250 OK queued\r\n"
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 OK\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// The text of a header, with RFC 2047 encoded words (`=?utf-8?b?…?=`) decoded.
pub fn header(data: &str, name: &str) -> Option<String> {
    use base64::Engine;
    let prefix = format!("{}:", name.to_ascii_lowercase());
    let mut value = String::new();
    let mut inside = false;
    for line in data.split("\r\n") {
        if inside && (line.starts_with(' ') || line.starts_with('\t')) {
            value.push_str(line);
        } else if inside || line.is_empty() {
            break;
        } else if line.to_ascii_lowercase().starts_with(&prefix) {
            value.push_str(&line[prefix.len()..]);
            inside = true;
        }
    }
    if !inside {
        return None;
    }
    let mut out = Vec::new();
    for word in value.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        if lower.starts_with("=?utf-8?b?") && word.ends_with("?=") {
            let b64 = &word[10..word.len() - 2];
            out.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap(),
            );
        } else {
            if !out.is_empty() {
                out.push(b' ');
            }
            out.extend(word.as_bytes());
        }
    }
    Some(String::from_utf8(out).unwrap())
}
