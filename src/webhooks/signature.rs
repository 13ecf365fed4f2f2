//! Standard Webhooks signing (symmetric scheme, `v1` = HMAC-SHA256).
//!
//! Specification: <https://www.standardwebhooks.com> (spec/standard-webhooks.md in
//! the `standard-webhooks/standard-webhooks` repository), section "Signature scheme":
//!
//! * headers `webhook-id`, `webhook-timestamp` (integer unix seconds) and
//!   `webhook-signature`;
//! * the signed content is `{msg_id}.{timestamp}.{body}`;
//! * a signature is serialised as `v1,<base64(HMAC-SHA256(key, content))>`, and the
//!   header is a *space*-delimited list of them (one per secret during a rotation);
//! * the secret is random, "at least 24 bytes (192 bits, 512 maximum)", serialised
//!   as `whsec_` + base64 of the key bytes.
//!
//! Self-contained: depends only on `hmac 0.12`, `sha2 0.10`, `base64 0.22` and
//! `rand 0.9`. Drop the file into a crate as `mod signature;`.

use std::fmt;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Prefix of a serialised symmetric secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Shortest key the specification allows (192 bits).
pub const MIN_KEY_LEN: usize = 24;
/// Longest key the specification allows (512 bits).
pub const MAX_KEY_LEN: usize = 64;
/// Length of keys made by [`WebhookSecret::generate`].
pub const GENERATED_KEY_LEN: usize = 32;
/// Signature version identifier of the symmetric scheme.
pub const SIGNATURE_VERSION: &str = "v1";

/// Standard base64 alphabet that accepts input with or without `=` padding
/// (the reference Python library pads before decoding, so unpadded secrets exist).
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Raw key bytes of an endpoint's signing secret.
///
/// `Debug` never prints the key. There is deliberately no `PartialEq`
/// (a derived one would not be constant-time); compare with
/// [`WebhookSecret::to_string_secret`] in tests if needed.
#[derive(Clone)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

impl WebhookSecret {
    /// A new secret of [`GENERATED_KEY_LEN`] random bytes from the thread-local
    /// CSPRNG of `rand` 0.9 (ChaCha, seeded and periodically reseeded from the OS).
    pub fn generate() -> Self {
        let mut key = vec![0u8; GENERATED_KEY_LEN];
        rand::rng().fill_bytes(&mut key);
        Self { key }
    }

    /// Parses `whsec_<base64>` (padding optional). Refuses anything without the
    /// prefix, invalid base64, and keys outside [`MIN_KEY_LEN`]..=[`MAX_KEY_LEN`] bytes.
    /// The error message never contains the secret.
    pub fn parse(s: &str) -> Result<Self, String> {
        let b64 =
            s.strip_prefix(SECRET_PREFIX).ok_or_else(|| format!("webhook secret must start with `{SECRET_PREFIX}`"))?;
        let key =
            LENIENT_B64.decode(b64).map_err(|_| "webhook secret is not valid base64 after `whsec_`".to_string())?;
        Self::from_bytes(key)
    }

    /// Wraps raw key bytes, with the same length rule as [`WebhookSecret::parse`].
    pub fn from_bytes(key: Vec<u8>) -> Result<Self, String> {
        if key.len() < MIN_KEY_LEN {
            return Err(format!("webhook secret key is {} bytes; at least {MIN_KEY_LEN} are required", key.len()));
        }
        if key.len() > MAX_KEY_LEN {
            return Err(format!("webhook secret key is {} bytes; at most {MAX_KEY_LEN} are allowed", key.len()));
        }
        Ok(Self { key })
    }

    /// The serialised form shown to the endpoint's owner: `whsec_<base64, padded>`.
    pub fn to_string_secret(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
    }

    /// The raw key bytes (e.g. to encrypt them at rest).
    pub fn as_bytes(&self) -> &[u8] {
        &self.key
    }

    fn mac_for(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for HMAC.
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookSecret(<redacted, {} bytes>)", self.key.len())
    }
}

/// One signature, `v1,<base64>`, of `{msg_id}.{timestamp}.{body}`.
///
/// `body` must be exactly the bytes sent. `msg_id` must not be user-controlled
/// and must not contain `.` (spec: "not be allowed to include any `.`").
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    debug_assert!(!msg_id.contains('.'), "webhook message ids must not contain '.'");
    let tag = secret.mac_for(msg_id, timestamp, body).finalize().into_bytes();
    format!("{SIGNATURE_VERSION},{}", STANDARD.encode(tag))
}

/// The `webhook-signature` header value: one [`sign`] per secret, space-separated,
/// in the order given. During a rotation pass `[&new, &old]` for the grace period;
/// a receiver accepts the request if any signature matches its secret.
/// An empty slice gives an empty string (a caller bug: there is always a current secret).
pub fn signature_header(secrets: &[&WebhookSecret], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    debug_assert!(!secrets.is_empty(), "at least one secret is needed to sign");
    secrets.iter().map(|s| sign(s, msg_id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

/// True if any `v1` entry of the space-separated `header` is the signature of
/// `{msg_id}.{timestamp}.{body}` under `secret`. The comparison is constant-time
/// (`hmac`'s `verify_slice`, built on `subtle`). Entries of other versions
/// (e.g. `v1a`) and malformed entries are skipped.
///
/// This checks the signature only; a receiver must also bound the timestamp
/// (see [`timestamp_within_tolerance`]).
pub fn verify(secret: &WebhookSecret, msg_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let mac = secret.mac_for(msg_id, timestamp, body);
    let mut matched = false;
    for entry in header.split(' ').filter(|e| !e.is_empty()) {
        let Some((version, sig_b64)) = entry.split_once(',') else {
            continue;
        };
        if version != SIGNATURE_VERSION {
            continue;
        }
        let Ok(sig) = STANDARD.decode(sig_b64) else {
            continue;
        };
        // Keep going after a match so timing does not reveal which entry matched.
        matched |= mac.clone().verify_slice(&sig).is_ok();
    }
    matched
}

/// Replay protection for receivers: `|now - timestamp| <= tolerance_secs`
/// (the reference libraries use 5 minutes = 300 s).
pub fn timestamp_within_tolerance(timestamp: i64, now: i64, tolerance_secs: i64) -> bool {
    now.abs_diff(timestamp) <= tolerance_secs.unsigned_abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Official test vector of Standard Webhooks. Source: the reference libraries in
    // github.com/standard-webhooks/standard-webhooks, e.g.
    // libraries/python/tests/test_webhooks.py::test_sign_function
    // (commit 33d368b20c5543357f4f27fd13bed0703b8c5204): key
    // "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", msg_id "msg_p5jXN8AQM9LWM0D4loKWxJek",
    // timestamp 1614265330, payload '{"test": 2432232314}', expected
    // "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=". Also re-checked against the
    // PyPI package standardwebhooks==1.1.0 (Webhook(key).sign(...)).
    const VEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const VEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const VEC_TS: i64 = 1_614_265_330;
    const VEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const VEC_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    // Second vector, from the reference Rust library:
    // libraries/rust/src/lib.rs::tests::test_sign
    // (commit 1e88c9ce08bb2c605fea9a2a540b4a91d31c7a62).
    const VEC2_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const VEC2_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const VEC2_TS: i64 = 1_649_367_553;
    const VEC2_BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const VEC2_SIG: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    fn vec_secret() -> WebhookSecret {
        WebhookSecret::parse(VEC_SECRET).unwrap()
    }

    #[test]
    fn official_vector_sign() {
        assert_eq!(sign(&vec_secret(), VEC_ID, VEC_TS, VEC_BODY), VEC_SIG);
    }

    #[test]
    fn official_vector_verify() {
        assert!(verify(&vec_secret(), VEC_ID, VEC_TS, VEC_BODY, VEC_SIG));
    }

    #[test]
    fn reference_rust_library_vector() {
        let s = WebhookSecret::parse(VEC2_SECRET).unwrap();
        assert_eq!(sign(&s, VEC2_ID, VEC2_TS, VEC2_BODY), VEC2_SIG);
        assert!(verify(&s, VEC2_ID, VEC2_TS, VEC2_BODY, VEC2_SIG));
    }

    #[test]
    fn official_vector_rejects_any_change() {
        let s = vec_secret();
        assert!(!verify(&s, VEC_ID, VEC_TS, br#"{"test": 2432232315}"#, VEC_SIG));
        assert!(!verify(&s, "msg_other", VEC_TS, VEC_BODY, VEC_SIG));
        assert!(!verify(&s, VEC_ID, VEC_TS + 1, VEC_BODY, VEC_SIG));
        let other = WebhookSecret::parse(VEC2_SECRET).unwrap();
        assert!(!verify(&other, VEC_ID, VEC_TS, VEC_BODY, VEC_SIG));
        // Last base64 character changed (from the reference Python tests).
        let bad = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=";
        assert!(!verify(&s, VEC_ID, VEC_TS, VEC_BODY, bad));
    }

    #[test]
    fn verify_skips_other_versions_and_malformed_entries() {
        let s = vec_secret();
        let b64 = VEC_SIG.strip_prefix("v1,").unwrap();
        for header in [
            "",
            " ",
            b64,                                           // no version
            &format!("v1a,{b64}"),                         // asymmetric id
            &format!("v2,{b64}"),                          // unknown version
            &format!("v1,{}", &b64[..b64.len() - 4]),      // truncated
            "v1,not*base64",                               // invalid base64
            &format!("v1,{b64}{b64}"),                     // too long
            &format!("v1,{}", STANDARD.encode([0u8; 32])), // right length, wrong tag
            &format!("v1 ,{b64}"),                         // version must be exact
        ] {
            assert!(!verify(&s, VEC_ID, VEC_TS, VEC_BODY, header), "accepted {header:?}");
        }
    }

    #[test]
    fn verify_accepts_a_match_anywhere_in_a_multi_signature_header() {
        let s = vec_secret();
        // Shape of the reference test "test_multi_sig_payload_is_valid".
        let header = format!(
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {VEC_SIG} v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
        );
        assert!(verify(&s, VEC_ID, VEC_TS, VEC_BODY, &header));
        // Extra spaces are tolerated.
        assert!(verify(&s, VEC_ID, VEC_TS, VEC_BODY, &format!("  {VEC_SIG}  ")));
    }

    #[test]
    fn signature_header_for_rotation() {
        let new = WebhookSecret::generate();
        let old = vec_secret();
        let body = br#"{"type":"finding.created"}"#;
        let header = signature_header(&[&new, &old], "msg_1", 1_700_000_000, body);
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&new, "msg_1", 1_700_000_000, body));
        assert_eq!(parts[1], sign(&old, "msg_1", 1_700_000_000, body));
        // A receiver holding either secret accepts the header.
        assert!(verify(&new, "msg_1", 1_700_000_000, body, &header));
        assert!(verify(&old, "msg_1", 1_700_000_000, body, &header));
        assert!(!verify(&WebhookSecret::generate(), "msg_1", 1_700_000_000, body, &header));
        // One secret: identical to sign().
        assert_eq!(signature_header(&[&old], VEC_ID, VEC_TS, VEC_BODY), VEC_SIG);
    }

    #[test]
    fn generate_makes_distinct_32_byte_keys_that_round_trip() {
        let a = WebhookSecret::generate();
        let b = WebhookSecret::generate();
        assert_eq!(a.as_bytes().len(), 32);
        assert_ne!(a.as_bytes(), b.as_bytes());
        let text = a.to_string_secret();
        assert!(text.starts_with("whsec_"));
        assert_eq!(text.len(), "whsec_".len() + 44);
        let back = WebhookSecret::parse(&text).unwrap();
        assert_eq!(back.as_bytes(), a.as_bytes());
    }

    #[test]
    fn parse_round_trips_the_vector_secret() {
        assert_eq!(vec_secret().as_bytes().len(), 24);
        assert_eq!(vec_secret().to_string_secret(), VEC_SECRET);
    }

    #[test]
    fn parse_refuses_other_forms() {
        let b64_32 = STANDARD.encode([7u8; 32]);
        for bad in [
            "",
            "whsec_",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",        // no prefix
            "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  // prefix is case-sensitive
            "whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",   // asymmetric secret key
            "whpk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",   // asymmetric public key
            " whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", // surrounding whitespace
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!",         // not base64
            "whsec_c2hvcnQ=",                                 // 5 bytes
            &format!("whsec_{}", STANDARD.encode([1u8; 23])), // 23 bytes
            &format!("whsec_{}", STANDARD.encode([1u8; 65])), // 65 bytes
            &format!("whsec_{}", base64::engine::general_purpose::URL_SAFE.encode([0xfbu8; 32])),
            &format!("whsec_{b64_32}whsec_{b64_32}"),
        ] {
            assert!(WebhookSecret::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn parse_accepts_boundaries_and_unpadded_base64() {
        for len in [24usize, 32, 64] {
            let s = format!("whsec_{}", STANDARD.encode(vec![9u8; len]));
            assert_eq!(WebhookSecret::parse(&s).unwrap().as_bytes().len(), len);
        }
        let padded = format!("whsec_{}", STANDARD.encode([5u8; 32]));
        assert!(padded.ends_with('='));
        let unpadded = padded.trim_end_matches('=');
        assert_eq!(WebhookSecret::parse(unpadded).unwrap().as_bytes(), &[5u8; 32]);
    }

    #[test]
    fn errors_and_debug_do_not_leak_the_key() {
        let s = WebhookSecret::generate();
        let text = s.to_string_secret();
        let b64 = text.strip_prefix("whsec_").unwrap();
        let dbg = format!("{s:?} {:#?}", s);
        assert!(!dbg.contains(b64), "{dbg}");
        assert!(dbg.contains("redacted"));
        let short = format!("whsec_{}", STANDARD.encode(b"sixteen-byte-key"));
        let err = WebhookSecret::parse(&short).unwrap_err();
        assert!(!err.contains("c2l4dGVlbi1ieXRlLWtleQ"), "{err}");
    }

    #[test]
    fn signature_depends_on_every_part() {
        let s = WebhookSecret::generate();
        let base = sign(&s, "msg_a", 10, b"x");
        assert_ne!(base, sign(&s, "msg_b", 10, b"x"));
        assert_ne!(base, sign(&s, "msg_a", 11, b"x"));
        assert_ne!(base, sign(&s, "msg_a", 10, b"y"));
        assert_ne!(base, sign(&WebhookSecret::generate(), "msg_a", 10, b"x"));
        // Negative timestamps are formatted like any i64 (no panic).
        assert!(sign(&s, "msg_a", -1, b"").starts_with("v1,"));
    }

    #[test]
    fn tolerance_window() {
        assert!(timestamp_within_tolerance(1000, 1300, 300));
        assert!(timestamp_within_tolerance(1300, 1000, 300));
        assert!(!timestamp_within_tolerance(1000, 1301, 300));
        assert!(!timestamp_within_tolerance(1301, 1000, 300));
        assert!(!timestamp_within_tolerance(i64::MIN, i64::MAX, 300));
    }
}
