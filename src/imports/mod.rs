//! Importing a ledger: the JSON ledger format, or an official document in
//! text (`一、` / `(一)` / `1.` / `(1)` numbering, "整改情况:" paragraphs) in UTF-8 or
//! GB18030/GBK (`decode`).

pub mod api;
pub mod decode;
pub mod document;
pub mod docx;
pub mod preamble;
pub mod routes;
pub mod service;
pub mod sheet;
pub mod text;
