//! Password hashing with argon2id, bounded.
//!
//! Argon2 is memory-hard on purpose: each hash fills a 19 MiB work area. Left to itself,
//! every blocking thread that ran a sign-in would allocate its own area, and the allocator
//! kept what a thread once used: 160 sign-ins at 16 clients left the server at 2.66 GB
//! resident. Here at most one hash per core runs at a time (the rest wait, asynchronously,
//! holding no thread and no database connection), so the memory argon2 takes is at most
//! `cores × 19 MiB`, whatever the load. While sign-ins keep coming the areas are reused (mapping
//! and touching 19 MiB anew costs each hash several milliseconds: 61 instead of 89 sign-ins a
//! second on two cores); the hash that finishes with no other running or waiting frees them all,
//! and freed they go back to the system (`crate::alloc`), so none stays resident after a burst.

use std::sync::{Mutex, OnceLock};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The salt length of new hashes, in bytes.
const SALT_BYTES: usize = 16;

/// Hashes a password with a random salt (PHC string), waiting for a free hasher.
pub async fn hash(password: String) -> Result<String, String> {
    let _permit = hashers().permits.acquire().await.map_err(|e| e.to_string())?;
    actix_web::web::block(move || with_area(|area| hash_in(password.as_bytes(), area)))
        .await
        .map_err(|e| e.to_string())?
}

/// Checks a password against a stored PHC hash, waiting for a free hasher.
pub async fn verify(password: String, stored: String) -> bool {
    let Ok(_permit) = hashers().permits.acquire().await else { return false };
    actix_web::web::block(move || with_area(|area| verify_in(password.as_bytes(), &stored, area)))
        .await
        .unwrap_or(false)
}

/// Spends the same effort as a real check, so an unknown username takes as
/// long to refuse as a wrong password.
pub async fn verify_dummy(password: String) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = match DUMMY.get() {
        Some(stored) => stored.clone(),
        None => {
            let stored = hash("rectify-dummy-password".into()).await.unwrap_or_default();
            DUMMY.get_or_init(|| stored).clone()
        }
    };
    let _ = verify(password, stored).await;
}

/// Hashes a password on the calling thread, outside the bound: for one-off work such as
/// bootstrap and the command line, never for requests.
pub fn hash_now(password: &str) -> Result<String, String> {
    hash_in(password.as_bytes(), &mut new_area(Params::DEFAULT.block_count()))
}

/// Checks a password on the calling thread, outside the bound (tests, the command line).
pub fn verify_now(password: &str, stored: &str) -> bool {
    verify_in(password.as_bytes(), stored, &mut new_area(Params::DEFAULT.block_count()))
}

/// A generated password for the bootstrap admin: 24 characters from an unambiguous alphabet.
pub fn generate() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..24).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// How many hashes may run at once: one per core.
pub fn concurrency() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// The permits (one per concurrent hash) and the work areas kept between hashes of a burst.
struct Hashers {
    permits: Semaphore,
    areas: Mutex<Vec<Box<[Block]>>>,
}

fn hashers() -> &'static Hashers {
    static HASHERS: OnceLock<Hashers> = OnceLock::new();
    HASHERS.get_or_init(|| Hashers { permits: Semaphore::new(concurrency()), areas: Mutex::new(Vec::new()) })
}

/// Runs `f` with a work area: a kept one, or a new one. Only permit holders call it, so no more
/// areas exist than permits. Afterwards the area is kept for the next hash if another is
/// running or waiting (then it holds a permit), and otherwise freed with every kept one.
fn with_area<T>(f: impl FnOnce(&mut [Block]) -> T) -> T {
    let hashers = hashers();
    let taken = hashers.areas.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let mut area = taken.unwrap_or_else(|| new_area(Params::DEFAULT.block_count()));
    let out = f(&mut area);
    let mut kept = hashers.areas.lock().unwrap_or_else(|e| e.into_inner());
    // This hash still holds its permit: all the others free means nobody else is hashing, and
    // nobody waits (a waiter would have been handed a free permit).
    if hashers.permits.available_permits() + 1 >= concurrency() {
        kept.clear();
    } else {
        kept.push(area);
    }
    out
}

fn new_area(blocks: usize) -> Box<[Block]> {
    vec![Block::new(); blocks].into_boxed_slice()
}

fn hash_in(password: &[u8], area: &mut [Block]) -> Result<String, String> {
    let mut salt = [0u8; SALT_BYTES];
    rand::Rng::fill(&mut rand::rng(), &mut salt);
    let params = Params::DEFAULT;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password, &salt, &mut out, area)
        .map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.into(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(Salt::new(&salt).map_err(|e| e.to_string())?),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

/// Recomputes the stored hash's argon2 with its own parameters; a hash stored with more
/// memory than the shared areas hold (older or stronger settings) gets an area of its own.
fn verify_in(password: &[u8], stored: &str, area: &mut [Block]) -> bool {
    let Ok(phc) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(phc.algorithm.as_str()) else { return false };
    let Ok(version) = phc.version.map(Version::try_from).transpose() else { return false };
    let Ok(params) = Params::try_from(&phc) else { return false };
    let argon = Argon2::new(algorithm, version.unwrap_or_default(), params.clone());
    let mut out = vec![0u8; expected.len()];
    let done = if params.block_count() <= area.len() {
        argon.hash_password_into_with_memory(password, salt.as_ref(), &mut out, area)
    } else {
        argon.hash_password_into_with_memory(password, salt.as_ref(), &mut out, new_area(params.block_count()))
    };
    done.is_ok() && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::PasswordHasher;

    #[test]
    fn hash_then_verify() {
        let h = super::hash_now("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(super::verify_now("correct horse battery", &h));
        assert!(!super::verify_now("wrong horse battery", &h));
        assert!(!super::verify_now("x", "not a hash"));
    }

    /// Hashes made by the argon2 crate's own hasher (as every stored hash so far was) verify,
    /// including ones with other parameters than the shared work areas are sized for.
    #[test]
    fn hashes_from_the_argon2_crate_verify() {
        let default = argon2::Argon2::default().hash_password(b"correct horse battery").unwrap().to_string();
        assert!(super::verify_now("correct horse battery", &default));
        let params = argon2::Params::new(32 * 1024, 1, 2, Some(32)).unwrap();
        let bigger = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(b"correct horse battery")
            .unwrap()
            .to_string();
        assert!(super::verify_now("correct horse battery", &bigger));
        assert!(!super::verify_now("correct horse batter", &bigger));
    }

    #[actix_web::test]
    async fn the_bounded_path_agrees() {
        let h = super::hash("correct horse battery".into()).await.unwrap();
        let checks = (0..4).map(|i| {
            let given = if i % 2 == 0 { "correct horse battery" } else { "wrong" };
            super::verify(given.into(), h.clone())
        });
        let results = futures_util::future::join_all(checks).await;
        assert_eq!(results, [true, false, true, false]);
        assert!(super::hashers().areas.lock().unwrap().len() <= super::concurrency());
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let a = super::generate();
        assert_eq!(a.chars().count(), 24);
        assert_ne!(a, super::generate());
    }
}
