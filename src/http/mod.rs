//! HTTP plumbing shared by every domain: the JSON body extractor, query
//! parsing, ETag/If-Match, keyset cursors and idempotent creation.

pub mod etag;
pub mod idempotency;
pub mod json;
pub mod pagination;
pub mod query;

pub use etag::IfMatch;
pub use idempotency::IdempotencyKey;
pub use json::Json;
pub use pagination::{Page, PageParams};
