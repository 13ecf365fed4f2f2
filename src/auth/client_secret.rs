//! Service-account credentials: the client id, the secret (shown once) and its stored hash.
//!
//! The secret is 32 random bytes, so it cannot be guessed or found in a dictionary: a slow
//! password hash (argon2) would add nothing but cost to every token request. It is stored as
//! its SHA-256, and a presented secret's hash is compared in constant time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The prefix of every client id.
pub const CLIENT_ID_PREFIX: &str = "svc_";
/// The prefix of every client secret, so that secret scanners and people recognise one.
pub const SECRET_PREFIX: &str = "rectify_sk_";
/// Random bytes in a secret.
const SECRET_BYTES: usize = 32;

/// A new client id: `svc_` and 16 hex digits (64 random bits; unique by the username index).
pub fn generate_client_id() -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{CLIENT_ID_PREFIX}{hex}")
}

/// A new secret: `rectify_sk_` and 32 random bytes in unpadded base64url (43 characters),
/// from the thread-local CSPRNG of `rand` (ChaCha, seeded from the OS).
pub fn generate() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a secret: its SHA-256 in lowercase hex.
pub fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `true` when `secret` hashes to `stored`, compared in constant time.
pub fn verify(secret: &str, stored: &str) -> bool {
    hash(secret).as_bytes().ct_eq(stored.as_bytes()).into()
}

/// Spends the same effort as [`verify`], so an unknown client id is refused as fast as a wrong secret.
pub fn verify_dummy(secret: &str) {
    const DUMMY: &str = "0000000000000000000000000000000000000000000000000000000000000000";
    let _ = verify(secret, DUMMY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_and_verify_only_themselves() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert!(a.starts_with(SECRET_PREFIX) && a.len() == SECRET_PREFIX.len() + 43, "{a}");
        let stored = hash(&a);
        assert_eq!(stored.len(), 64);
        assert!(!stored.contains(&a[SECRET_PREFIX.len()..]));
        assert!(verify(&a, &stored));
        assert!(!verify(&b, &stored));
        assert!(!verify(&a, "not a hash"));
    }

    #[test]
    fn client_ids_are_prefixed_and_differ() {
        let id = generate_client_id();
        assert!(id.starts_with(CLIENT_ID_PREFIX) && id.len() == CLIENT_ID_PREFIX.len() + 16, "{id}");
        assert_ne!(id, generate_client_id());
    }
}
