//! A text document's bytes as text (issue 12): UTF-8, with or without a byte-order mark, or
//! GB18030 (of which GBK and GB2312 are subsets: what Chinese Windows saves as "ANSI"),
//! decoded by `encoding_rs`. The encoding is the one the request declares (`charset`), or,
//! undeclared, UTF-8 when the bytes are UTF-8 and GB18030 otherwise (a warning says so). CR,
//! LF and CRLF line ends all become LF. Bytes that are not text in the encoding are refused
//! naming the line and column of the first of them.

use encoding_rs::{DecoderResult, Encoding, GB18030, GBK, UTF_8};

use super::api::ImportWarning;
use crate::error::AppError;

/// An encoding a document may declare: UTF-8, GBK, GB2312 or GB18030 (by any of their
/// WHATWG labels); `None` for anything else.
pub fn charset(label: &str) -> Option<&'static Encoding> {
    let label = label.trim().trim_matches('"');
    Encoding::for_label(label.as_bytes()).filter(|e| [UTF_8, GBK, GB18030].contains(e))
}

/// The document's text with LF line ends, and a warning when its encoding was detected as
/// other than UTF-8.
pub fn decode(bytes: &[u8], declared: Option<&'static Encoding>) -> Result<(String, Vec<ImportWarning>), AppError> {
    let mut warnings = Vec::new();
    let encoding = match declared {
        Some(e) => e,
        None if std::str::from_utf8(without_bom(bytes)).is_ok() => UTF_8,
        None => match strict(GB18030, bytes) {
            Ok(_) => {
                warnings.push(ImportWarning {
                    line: 0,
                    message: "the document is not UTF-8: it was read as GB18030 (GBK); declare `charset` to be sure"
                        .into(),
                });
                GB18030
            }
            // Neither: name the first place where it is not UTF-8.
            Err(_) => UTF_8,
        },
    };
    let body = if encoding == UTF_8 { without_bom(bytes) } else { bytes };
    let text = strict(encoding, body).map_err(|(line, column, byte)| {
        let tried = if declared.is_some() { encoding.name().to_owned() } else { "UTF-8 or GB18030".to_owned() };
        AppError::BadRequest(format!(
            "line {line}, column {column}: byte 0x{byte:02X} is not {tried} text; save the document as UTF-8 \
             (or declare its charset: utf-8, gbk, gb18030)"
        ))
    })?;
    Ok((line_feeds(&text), warnings))
}

fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// `bytes` decoded without replacement; else the line and column (from 1, in characters) of
/// the first byte that is not text, and that byte.
fn strict(encoding: &'static Encoding, bytes: &[u8]) -> Result<String, (usize, usize, u8)> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder.max_utf8_buffer_length_without_replacement(bytes.len()).unwrap_or(bytes.len() * 3);
    let mut out = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        DecoderResult::InputEmpty => Ok(out),
        DecoderResult::Malformed(bad, after) => {
            let at = read.saturating_sub(bad as usize + after as usize);
            let text = line_feeds(&out);
            let line = text.matches('\n').count() + 1;
            let column = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Err((line, column, bytes.get(at).copied().unwrap_or_default()))
        }
        // The buffer holds the longest possible output.
        DecoderResult::OutputFull => Err((0, 0, 0)),
    }
}

/// CRLF and lone CR as LF.
fn line_feeds(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "关于巡察反馈问题整改情况的通报\n一、存在的问题\n（一）党的建设方面\n1.制度落实不到位。\n";

    #[test]
    fn utf8_with_and_without_a_bom_and_every_line_end() {
        let plain = decode(TEXT.as_bytes(), None).unwrap();
        assert_eq!(plain.0, TEXT);
        assert!(plain.1.is_empty());
        let bom = [b"\xEF\xBB\xBF".as_slice(), TEXT.as_bytes()].concat();
        assert_eq!(decode(&bom, None).unwrap().0, TEXT);
        for end in ["\r\n", "\r"] {
            assert_eq!(decode(TEXT.replace('\n', end).as_bytes(), None).unwrap().0, TEXT);
        }
    }

    #[test]
    fn gbk_is_detected_and_declared() {
        let (gbk, _, unmappable) = GBK.encode(TEXT);
        assert!(!unmappable);
        let (text, warnings) = decode(&gbk, None).unwrap();
        assert_eq!(text, TEXT);
        assert!(warnings[0].message.contains("GB18030"), "{warnings:?}");
        for label in ["gbk", "GB2312", "gb18030", "\"GBK\""] {
            let (text, warnings) = decode(&gbk, charset(label)).unwrap();
            assert_eq!(text, TEXT, "{label}");
            assert!(warnings.is_empty());
        }
        assert!(charset("latin1").is_none());
        assert!(charset("big5").is_none());
    }

    #[test]
    fn bytes_that_are_no_text_are_named_by_line_and_column() {
        let mut bytes = "第一行\n第二行\n第三".as_bytes().to_vec();
        bytes.push(0xFF);
        bytes.extend_from_slice("行".as_bytes());
        let AppError::BadRequest(message) = decode(&bytes, None).unwrap_err() else { panic!() };
        assert!(message.starts_with("line 3, column 3: byte 0xFF"), "{message}");
        let AppError::BadRequest(message) = decode(&bytes, Some(UTF_8)).unwrap_err() else { panic!() };
        assert!(message.contains("is not UTF-8 text"), "{message}");
    }
}
