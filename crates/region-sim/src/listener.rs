//! A listener whose accept loop and connections this crate owns, so a region can be taken
//! down the way a real outage looks to a browser.
//!
//! Closing only the listening socket is not enough: browsers keep connections alive and would
//! go on talking to a "down" region. [`Listener::down`] therefore closes the socket (new
//! connects are refused) *and* aborts every open connection; [`Listener::up`] binds the same
//! address again. Each connection also carries a [`ConnectionKill`] so a handler can drop its
//! own connection without answering (ambiguous failures, black holes).
//!
//! Every connection is served with explicit header limits (hyper answers 431 beyond them) and
//! carries the peer's address ([`PeerAddr`]), which per-client limits fall back to.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Mutex;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Pending connections the kernel queues before `accept`.
const BACKLOG: u32 = 1024;
/// Pause after a failed `accept` (e.g. out of file descriptors) so the loop cannot spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(20);
/// A client that opens a connection and sends no headers is dropped after this.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a handler waits for its connection to be torn down after asking for it.
const KILL_GRACE: Duration = Duration::from_secs(5);
/// Most header lines in one HTTP/1.1 request (hyper's default, set here on purpose): more is
/// answered with 431 and the connection is closed.
pub const MAX_HEADERS: usize = 100;
/// Largest HTTP/1.1 request head (request line plus headers) and read buffer; a bigger head
/// is answered with 431. Browsers send a few KiB; 64 KiB leaves room for large cookies.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Largest HTTP/2 header list (decoded), the h2c counterpart of [`MAX_HEAD_BYTES`].
const MAX_H2_HEADER_LIST: u32 = 64 * 1024;
/// Concurrent HTTP/2 streams per connection.
const MAX_H2_STREAMS: u32 = 200;

/// The client's address, inserted into every request's extensions (per-client limits fall
/// back to it when a request does not say which client it comes from).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// Handle, inserted into every request's extensions, that closes the request's connection
/// without sending a response.
#[derive(Clone, Debug)]
pub struct ConnectionKill(CancellationToken);

impl ConnectionKill {
    /// Closes the connection (the client sees it end mid-exchange) and never answers.
    ///
    /// The connection task drops this future when it tears the connection down; the bounded
    /// wait only matters if that somehow does not happen, and then the client gets a 500.
    pub async fn close_without_answer(&self) -> axum::response::Response {
        self.0.cancel();
        tokio::time::sleep(KILL_GRACE).await;
        crate::http_error::error(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "connection_kill_failed",
            "the connection should have been closed without an answer",
        )
    }
}

/// Binds `addr` with `SO_REUSEADDR`, so `up` can re-bind a port whose old connections are
/// still in TIME_WAIT.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

struct Running {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// One HTTP listener (HTTP/1.1 and h2c) serving an axum router, that can be closed and
/// re-opened on the same address.
pub struct Listener {
    name: String,
    addr: SocketAddr,
    router: Router,
    running: Mutex<Option<Running>>,
}

impl Listener {
    /// Starts serving `router` on an already bound socket.
    pub fn serve(name: impl Into<String>, socket: TcpListener, router: Router) -> io::Result<Self> {
        let addr = socket.local_addr()?;
        let listener = Self {
            name: name.into(),
            addr,
            router,
            running: Mutex::new(None),
        };
        *listener.running.try_lock().expect("new mutex is free") = Some(listener.spawn(socket));
        Ok(listener)
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub async fn is_up(&self) -> bool {
        self.running.lock().await.is_some()
    }

    /// Closes the listening socket and every open connection; returns false if already down.
    pub async fn down(&self) -> bool {
        let running = self.running.lock().await.take();
        match running {
            Some(running) => {
                running.stop.cancel();
                if let Err(err) = running.task.await {
                    tracing::warn!(listener = %self.name, %err, "accept loop ended abnormally");
                }
                tracing::info!(listener = %self.name, addr = %self.addr, "down");
                true
            }
            None => false,
        }
    }

    /// Binds the same address again; returns false if it was already up.
    pub async fn up(&self) -> io::Result<bool> {
        let mut running = self.running.lock().await;
        if running.is_some() {
            return Ok(false);
        }
        let socket = bind(self.addr)?;
        *running = Some(self.spawn(socket));
        tracing::info!(listener = %self.name, addr = %self.addr, "up");
        Ok(true)
    }

    fn spawn(&self, socket: TcpListener) -> Running {
        let stop = CancellationToken::new();
        let task = tokio::spawn(accept_loop(
            self.name.clone(),
            socket,
            self.router.clone(),
            stop.clone(),
        ));
        Running { stop, task }
    }
}

/// Accepts until `stop`, then drops the socket (connects are refused from then on) and aborts
/// every connection task, which closes their sockets.
async fn accept_loop(name: String, socket: TcpListener, router: Router, stop: CancellationToken) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            accepted = socket.accept() => match accepted {
                Ok((stream, peer)) => {
                    // Reap finished connections so the set only holds live ones.
                    while connections.try_join_next().is_some() {}
                    connections.spawn(serve_connection(stream, PeerAddr(peer), router.clone()));
                }
                Err(err) => {
                    tracing::warn!(listener = %name, %err, "accept failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                }
            },
        }
    }
    drop(socket);
    connections.shutdown().await;
}

async fn serve_connection(stream: TcpStream, peer: PeerAddr, router: Router) {
    let _ = stream.set_nodelay(true);
    let kill = CancellationToken::new();
    let handle = ConnectionKill(kill.clone());
    let service = router.map_request(move |request: Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(handle.clone());
        request.extensions_mut().insert(peer);
        request
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_headers(MAX_HEADERS)
        .max_buf_size(MAX_HEAD_BYTES);
    builder
        .http2()
        .max_header_list_size(MAX_H2_HEADER_LIST)
        .max_concurrent_streams(MAX_H2_STREAMS);
    let connection =
        builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::select! {
        _ = connection => {}
        () = kill.cancelled() => {}
    }
}
