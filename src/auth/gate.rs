//! Authorization before the body. Actix polls a handler's extractors together, so a
//! malformed body could answer 400/422 before the caller's token or role was checked. The
//! caller extractors (`AuthUser`, `Needs`) leave a gate in the request that the body
//! extractors wait on: a body is read and validated only for a caller who may send it.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::{dev::Payload, FromRequest, HttpMessage, HttpRequest};
use tokio::sync::oneshot;

use super::{AuthUser, Role};
use crate::error::AppError;

struct Gate(oneshot::Receiver<()>);

/// The caller extractor's side of the gate: opened once the caller passed.
pub(crate) struct Opener(oneshot::Sender<()>);

impl Opener {
    pub(crate) fn open(self) {
        // Nobody waits when the handler takes no body.
        let _ = self.0.send(());
    }
}

/// Sets up the gate; called while the extractors are created, before any of them runs.
pub(crate) fn install(req: &HttpRequest) -> Opener {
    let (tx, rx) = oneshot::channel();
    req.extensions_mut().insert(Gate(rx));
    Opener(tx)
}

/// Waits until the caller extractor of this request (if any) has passed. When it fails, its
/// own error answers the request (it is polled first or finishes first), so the error
/// returned here is never seen.
pub(crate) async fn passed(req: &HttpRequest) -> Result<(), AppError> {
    let gate = req.extensions_mut().remove::<Gate>();
    match gate {
        None => Ok(()),
        Some(Gate(rx)) => rx.await.map_err(|_| AppError::Forbidden("the request was not authorized".into())),
    }
}

/// Role bits for [`Needs`]; admins pass every check, so `ADMIN` (no bit) means admins only.
pub mod roles {
    pub const ADMIN: u8 = 0;
    pub const INSPECTOR: u8 = 1;
    pub const LEADER: u8 = 2;
    pub const OFFICER: u8 = 4;
}

/// The authenticated caller holding one of the roles in `ROLES` (a set of [`roles`] bits),
/// checked before the body is read: `Needs<{ roles::LEADER | roles::INSPECTOR }>`.
pub struct Needs<const ROLES: u8>(pub AuthUser);

impl<const ROLES: u8> Needs<ROLES> {
    /// The roles that pass (besides admin).
    pub fn roles() -> Vec<Role> {
        [(roles::LEADER, Role::Leader), (roles::INSPECTOR, Role::Inspector), (roles::OFFICER, Role::Officer)]
            .into_iter()
            .filter(|(bit, _)| ROLES & bit != 0)
            .map(|(_, role)| role)
            .collect()
    }

    pub fn into_inner(self) -> AuthUser {
        self.0
    }
}

impl<const ROLES: u8> Deref for Needs<ROLES> {
    type Target = AuthUser;

    fn deref(&self) -> &AuthUser {
        &self.0
    }
}

impl<const ROLES: u8> FromRequest for Needs<ROLES> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let opener = install(req);
        let user = super::authenticate(req);
        Box::pin(async move {
            let user = user.await?;
            user.require_any(&Self::roles())?;
            opener.open();
            Ok(Needs(user))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_bits_name_roles() {
        assert!(Needs::<{ roles::ADMIN }>::roles().is_empty());
        assert_eq!(Needs::<{ roles::LEADER | roles::INSPECTOR }>::roles(), vec![Role::Leader, Role::Inspector]);
    }
}
