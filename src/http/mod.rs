//! HTTP plumbing shared by every domain: the JSON body extractor, query
//! parsing, CORS, conditional GET and HEAD, ETag/If-Match, keyset cursors, idempotent creation, and
//! slow clients and stopping.

pub mod conditional;
pub mod cors;
pub mod etag;
pub mod idempotency;
pub mod json;
pub mod lifecycle;
pub mod pagination;
pub mod query;

pub use etag::IfMatch;
pub use idempotency::IdempotencyKey;
pub use json::Json;
pub use pagination::{Page, PageParams};
