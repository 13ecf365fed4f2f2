//! JWT issue and verification with an explicit, pinned `Validation`.

use std::fmt;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::secret::Secret;

/// An external identity provider whose tokens are accepted.
#[derive(Clone)]
pub struct ExternalIdp {
    pub public_key_pem: Vec<u8>,
    pub issuer: String,
    pub audience: String,
}

impl fmt::Debug for ExternalIdp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExternalIdp")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// A key pair that signs issued tokens instead of the HS256 secret.
#[derive(Clone)]
pub struct SigningKeys {
    pub private_pem: Vec<u8>,
    pub public_pem: Vec<u8>,
}

impl fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKeys(***)")
    }
}

/// Token settings.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// HS256 signing secret, at least 32 bytes (also keys the cursor signatures).
    pub secret: Secret,
    /// RS256/ES256 key pair for issued tokens; None: HS256 with `secret`.
    pub signing: Option<SigningKeys>,
    pub issuer: String,
    pub audience: String,
    pub ttl_seconds: u64,
    pub external: Option<ExternalIdp>,
}

/// Leeway for clock skew between this service and an external identity provider.
/// Tokens this service issued itself are checked against its own clock, with none.
const EXTERNAL_LEEWAY_SECONDS: u64 = 30;

/// The claims of every token this service issues or accepts.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    #[serde(default)]
    pub jti: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub org_unit_id: Option<i64>,
    /// The user's credentials version when the token was issued: a token whose `cv` is older
    /// than the user's current one (bumped by a password change, deactivation or a service
    /// account's deletion) is refused. Tokens issued before the claim existed read as 0.
    #[serde(default)]
    pub cv: i32,
}

/// Who a verified token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A token this service issued: `sub` is the user id, `credentials_version` its `cv` claim.
    Local { id: i64, credentials_version: i32 },
    /// An external identity provider's token: `sub` is the local username. It carries no
    /// credentials version (the provider owns the credential); deactivation still refuses it.
    External(String),
}

struct Verifier {
    algorithm: Algorithm,
    key: DecodingKey,
    validation: Validation,
    external: bool,
}

/// Issues and verifies tokens.
pub struct TokenService {
    algorithm: Algorithm,
    encoding: EncodingKey,
    issuer: String,
    audience: String,
    ttl_seconds: u64,
    verifiers: Vec<Verifier>,
}

/// The algorithm of an external provider's PEM public key: RS256 for RSA, ES256 for EC P-256.
pub fn external_algorithm(pem: &[u8]) -> Result<(Algorithm, DecodingKey), String> {
    if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        return Ok((Algorithm::RS256, key));
    }
    if let Ok(key) = DecodingKey::from_ec_pem(pem) {
        return Ok((Algorithm::ES256, key));
    }
    Err("is not a PEM-encoded RSA or EC public key".into())
}

/// The algorithm and keys of a configured signing key pair; errors name the variable at fault.
pub fn signing_keys(keys: &SigningKeys) -> Result<(Algorithm, EncodingKey, DecodingKey), (&'static str, String)> {
    let (algorithm, decoding) =
        external_algorithm(&keys.public_pem).map_err(|m| ("RECTIFY_JWT_VERIFYING_KEY_FILE", m))?;
    let encoding = match algorithm {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&keys.private_pem),
        _ => EncodingKey::from_ec_pem(&keys.private_pem),
    }
    .map_err(|_| {
        (
            "RECTIFY_JWT_SIGNING_KEY_FILE",
            format!("is not a PEM private key of the verifying key's kind ({algorithm:?})"),
        )
    })?;
    // A key pair that does not belong together would issue tokens nobody accepts.
    let probe = jsonwebtoken::encode(&Header::new(algorithm), &serde_json::json!({"probe": true}), &encoding)
        .map_err(|e| ("RECTIFY_JWT_SIGNING_KEY_FILE", format!("cannot sign with it: {e}")))?;
    let mut v = Validation::new(algorithm);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.validate_aud = false;
    jsonwebtoken::decode::<serde_json::Value>(&probe, &decoding, &v)
        .map_err(|_| ("RECTIFY_JWT_VERIFYING_KEY_FILE", "does not match RECTIFY_JWT_SIGNING_KEY_FILE".to_owned()))?;
    Ok((algorithm, encoding, decoding))
}

fn validation(algorithm: Algorithm, issuer: &str, audience: &str, leeway: u64) -> Validation {
    let mut v = Validation::new(algorithm);
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v.leeway = leeway;
    v.validate_exp = true;
    v.validate_nbf = true;
    v
}

impl TokenService {
    pub fn new(config: &JwtConfig) -> Result<Self, String> {
        let secret = config.secret.expose().as_bytes();
        let (algorithm, encoding, local_key) = match &config.signing {
            Some(keys) => signing_keys(keys).map_err(|(var, m)| format!("{var}: {m}"))?,
            None => (Algorithm::HS256, EncodingKey::from_secret(secret), DecodingKey::from_secret(secret)),
        };
        let mut verifiers = vec![Verifier {
            algorithm,
            key: local_key,
            validation: validation(algorithm, &config.issuer, &config.audience, 0),
            external: false,
        }];
        if let Some(idp) = &config.external {
            let (algorithm, key) = external_algorithm(&idp.public_key_pem)?;
            verifiers.push(Verifier {
                algorithm,
                key,
                validation: validation(algorithm, &idp.issuer, &idp.audience, EXTERNAL_LEEWAY_SECONDS),
                external: true,
            });
        }
        Ok(Self {
            algorithm,
            encoding,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            ttl_seconds: config.ttl_seconds,
            verifiers,
        })
    }

    /// Lifetime of issued tokens, in seconds.
    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    /// Signs a token for a local user under their current credentials version.
    pub fn issue(
        &self,
        user_id: i64,
        roles: Vec<String>,
        org_unit_id: i64,
        credentials_version: i32,
    ) -> Result<String, AppError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now,
            exp: now + self.ttl_seconds as i64,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: Some(uuid::Uuid::new_v4().to_string()),
            roles,
            org_unit_id: Some(org_unit_id),
            cv: credentials_version,
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.encoding)
            .map_err(|e| AppError::internal(format!("token signing: {e}")))
    }

    /// Verifies signature, algorithm, expiry, issuer and audience.
    pub fn verify(&self, token: &str) -> Result<Subject, AppError> {
        let invalid = || AppError::Unauthorized("the token is invalid or expired".into());
        // Unknown algorithms, `none` included, fail to parse here.
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        // Our own key first, then the external provider's, when both use the token's algorithm.
        let (verifier, data) = self
            .verifiers
            .iter()
            .filter(|v| v.algorithm == header.alg)
            .find_map(|v| jsonwebtoken::decode::<Claims>(token, &v.key, &v.validation).ok().map(|d| (v, d)))
            .ok_or_else(invalid)?;
        let (sub, credentials_version) = (data.claims.sub, data.claims.cv);
        if verifier.external {
            if sub.is_empty() {
                return Err(invalid());
            }
            Ok(Subject::External(sub))
        } else {
            let id = sub.parse::<i64>().map_err(|_| invalid())?;
            Ok(Subject::Local { id, credentials_version })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> TokenService {
        TokenService::new(&JwtConfig {
            secret: Secret::new("k".repeat(32)),
            signing: None,
            issuer: "rectify".into(),
            audience: "rectify-api".into(),
            ttl_seconds: 3600,
            external: None,
        })
        .unwrap()
    }

    #[test]
    fn issued_token_verifies() {
        let s = service();
        let t = s.issue(42, vec!["admin".into()], 1, 3).unwrap();
        assert_eq!(s.verify(&t).unwrap(), Subject::Local { id: 42, credentials_version: 3 });
    }

    #[test]
    fn tokens_without_a_credentials_version_read_as_version_0() {
        let s = service();
        let now = Utc::now().timestamp();
        let claims =
            serde_json::json!({"sub": "7", "iat": now, "exp": now + 60, "iss": "rectify", "aud": "rectify-api"});
        let key = EncodingKey::from_secret("k".repeat(32).as_bytes());
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
        assert_eq!(s.verify(&t).unwrap(), Subject::Local { id: 7, credentials_version: 0 });
    }

    #[test]
    fn alg_none_is_refused() {
        let s = service();
        let t = s.issue(42, vec![], 1, 0).unwrap();
        let payload = t.split('.').nth(1).unwrap();
        // {"alg":"none","typ":"JWT"}
        let forged = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert!(s.verify(&forged).is_err());
    }

    #[test]
    fn garbage_is_refused() {
        assert!(service().verify("not-a-token").is_err());
    }
}
