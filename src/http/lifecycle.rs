//! Slow clients and stopping (issue 13).
//!
//! actix bounds the wait for a request's head (`client_request_timeout`) but not for its body:
//! a client that announces 1,000 bytes and sends 10 would hold its connection, and a stopping
//! process, for as long as it likes. Here every body is read under a deadline that moves
//! with each chunk, like nginx's `client_body_timeout`: no byte for `read_timeout`, and the
//! read fails; the handler answers 408 (`/problems/request-timeout`, nothing written) and the
//! connection closes, the rest of the body being unread. Once shutdown began, a body must
//! also end within `read_timeout` of that moment, so a client trickling bytes cannot keep
//! the process alive.
//!
//! Shutdown (SIGTERM or SIGINT, `app::Serving::stop_on_signals`) first marks the
//! [`Lifecycle`]: `/readyz` answers 503 from then on, and every answer carries
//! `Connection: close`, so clients leave this instance. After the drain period new
//! connections are refused; requests already read are answered; the process exits when the
//! last connection has closed (an idle keep-alive connection closes after actix's 5-second
//! keep-alive), or after the grace period at the latest.

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::HttpMessage;
use futures_util::{Future, Stream};
use tokio::time::{Instant, Sleep};

use crate::error::AppError;
use crate::state::AppState;

/// Where the process is in its life: serving, or shutting down since a moment.
#[derive(Debug, Default)]
pub struct Lifecycle {
    stopping: AtomicBool,
    since: OnceLock<Instant>,
}

impl Lifecycle {
    /// Marks the start of shutdown; `false` when it had already begun.
    pub fn begin_shutdown(&self) -> bool {
        let first = self.since.set(Instant::now()).is_ok();
        self.stopping.store(true, Ordering::SeqCst);
        first
    }

    /// Whether shutdown has begun.
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    fn since(&self) -> Option<Instant> {
        self.since.get().copied()
    }
}

/// Reads request bodies under the read deadline, and closes the connection after an answer
/// once a body was cut off or shutdown began.
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let cut = match &state {
        Some(state) if has_body(&req) => {
            let cut = Rc::new(Cell::new(false));
            let inner = req.take_payload();
            let timeout = state.config.lifecycle.read_timeout;
            let deadline = ReadDeadline {
                inner,
                timeout,
                timer: Box::pin(tokio::time::sleep(timeout)),
                state: state.clone().into_inner(),
                cut: cut.clone(),
                done: false,
            };
            req.set_payload(Payload::from(Box::pin(deadline) as Pin<Box<dyn Stream<Item = _>>>));
            Some(cut)
        }
        _ => None,
    };
    let mut res = next.call(req).await?;
    let stopping = state.is_some_and(|s| s.lifecycle.stopping());
    if stopping || cut.is_some_and(|c| c.get()) {
        res.response_mut().head_mut().set_connection_type(ConnectionType::Close);
    }
    Ok(res)
}

/// A body follows the head: a non-zero `Content-Length`, or chunked transfer coding.
fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers.get(header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() != b"0")
}

/// The message of the error a cut-off body reads as.
const CUT_OFF: &str = "the client sent nothing more of its request body in time";

/// A body read error as the client's problem: 408 when the read deadline passed, else 400.
pub fn body_error(e: PayloadError) -> AppError {
    match &e {
        PayloadError::Io(io) if io.kind() == io::ErrorKind::TimedOut && io.to_string() == CUT_OFF => {
            AppError::RequestTimeout
        }
        _ => AppError::BadRequest(format!("cannot read the body: {e}")),
    }
}

/// The request's payload, failing with `TimedOut` when no chunk arrives before the deadline.
struct ReadDeadline {
    inner: Payload,
    timeout: Duration,
    timer: Pin<Box<Sleep>>,
    state: std::sync::Arc<AppState>,
    cut: Rc<Cell<bool>>,
    done: bool,
}

impl ReadDeadline {
    /// `timeout` from now; once shutdown began, no later than `timeout` after its start.
    fn deadline(&self) -> Instant {
        let next = Instant::now() + self.timeout;
        match self.state.lifecycle.since() {
            Some(since) => next.min(since + self.timeout),
            None => next,
        }
    }
}

impl Stream for ReadDeadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                let deadline = self.deadline();
                self.timer.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => {
                self.done = other.is_none();
                Poll::Ready(other)
            }
            Poll::Pending => {
                if self.timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.done = true;
                self.cut.set(true);
                Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(io::ErrorKind::TimedOut, CUT_OFF)))))
            }
        }
    }
}
