//! A scripted HTTP/1.1 server on 127.0.0.1 for one connection, which can
//! report what the client sent and when the client closed the connection.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// One step of the server's reply.
#[derive(Debug, Clone)]
pub enum Step {
    /// Writes bytes and flushes them.
    Write(Vec<u8>),
    /// Pauses.
    Sleep(Duration),
    /// Reads until the client closes the connection, then reports it.
    AwaitClientClose,
}

/// What the server saw.
pub struct Observed {
    /// The request head and body as received.
    pub request: oneshot::Receiver<String>,
    /// Fires when the client closed the connection during
    /// [`Step::AwaitClientClose`].
    pub client_closed: oneshot::Receiver<()>,
}

/// Starts a server that serves one connection with `steps`, then closes it.
/// Returns its base URL (`http://127.0.0.1:port`) and the observations.
pub async fn serve_once(steps: Vec<Step>) -> (String, Observed) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (request_tx, request_rx) = oneshot::channel();
    let (closed_tx, closed_rx) = oneshot::channel();

    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let request = read_request(&mut socket).await;
        let _ = request_tx.send(request);
        let mut closed_tx = Some(closed_tx);
        for step in steps {
            match step {
                Step::Write(bytes) => {
                    if socket.write_all(&bytes).await.is_err() {
                        return;
                    }
                    let _ = socket.flush().await;
                }
                Step::Sleep(pause) => tokio::time::sleep(pause).await,
                Step::AwaitClientClose => {
                    let mut buffer = [0u8; 1024];
                    while let Ok(read) = socket.read(&mut buffer).await {
                        if read == 0 {
                            break;
                        }
                    }
                    if let Some(sender) = closed_tx.take() {
                        let _ = sender.send(());
                    }
                }
            }
        }
    });

    let observed = Observed {
        request: request_rx,
        client_closed: closed_rx,
    };
    (format!("http://{address}"), observed)
}

/// Reads a request head and its `Content-Length` body; returns an empty
/// string when the client closed the connection first.
pub async fn read_request(socket: &mut tokio::net::TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = socket.read(&mut buffer).await.unwrap_or(0);
        if read == 0 {
            break;
        }
        received.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&received);
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if received.len() >= head_end + 4 + length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

/// Returns a response head for an event stream whose body ends when the
/// connection closes.
pub fn sse_head() -> Step {
    Step::Write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n".to_vec(),
    )
}

/// Returns a chunked-encoding response head for an event stream.
pub fn chunked_sse_head() -> Step {
    Step::Write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec(),
    )
}

/// Returns one chunk of a chunked body.
pub fn chunk(data: &[u8]) -> Step {
    let mut bytes = format!("{:x}\r\n", data.len()).into_bytes();
    bytes.extend_from_slice(data);
    bytes.extend_from_slice(b"\r\n");
    Step::Write(bytes)
}

/// Returns a complete response with a JSON body and extra header lines.
pub fn json_response(status: u16, extra_headers: &str, body: &[u8]) -> Step {
    let mut bytes = format!(
        "HTTP/1.1 {status} Status\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra_headers}connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    Step::Write(bytes)
}
