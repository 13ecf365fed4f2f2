//! Identity: tokens, passwords, the `AuthUser` extractor, roles and scope.

pub mod api;
pub mod cache;
pub mod client_secret;
pub mod gate;
pub mod password;
pub mod routes;
pub mod scope;
pub mod token;

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use diesel::prelude::*;

use crate::audit::Actor;
use crate::db::schema::users;
use crate::error::AppError;
use crate::state::AppState;
use crate::telemetry::RequestId;
use token::Subject;

pub use gate::{roles, Needs};

crate::string_enum! {
    /// What a user may do (a user may hold several roles).
    #[derive(PartialOrd, Ord)]
    pub enum Role {
        Admin => "admin",
        Inspector => "inspector",
        Leader => "leader",
        Officer => "officer",
        Viewer => "viewer",
    }
}

crate::string_enum! {
    /// Who a user row is: a person (signs in with a password or through the identity
    /// provider) or a service account of another system (signs in with client credentials).
    pub enum UserKind {
        Person => "person",
        Service => "service",
    }
}

/// Roles as comma-separated text: a user's role set (`users.roles`) or an approval chain.
fn roles_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

/// Reads comma-separated roles; unknown names (from a newer version) are skipped.
fn parse_roles(raw: &str) -> Vec<Role> {
    raw.split(',').filter_map(|s| Role::parse(s.trim())).collect()
}

/// The roles a user holds: a set, stored sorted and without repeats in `users.roles`.
#[derive(Debug, Clone, PartialEq, Eq, Default, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct RoleSet(Vec<Role>);

impl RoleSet {
    pub fn new(roles: &[Role]) -> Self {
        let mut sorted = roles.to_vec();
        sorted.sort();
        sorted.dedup();
        Self(sorted)
    }

    pub fn roles(&self) -> &[Role] {
        &self.0
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn into_vec(self) -> Vec<Role> {
        self.0
    }
}

crate::text_sql_type!(RoleSet, |raw: &str| Some(RoleSet(parse_roles(raw))), |s: &RoleSet| roles_text(&s.0));

/// The ordered roles that sign off a request step by step (order and repeats matter).
#[derive(Debug, Clone, PartialEq, Eq, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct ApprovalChain(pub Vec<Role>);

crate::text_sql_type!(ApprovalChain, |raw: &str| Some(ApprovalChain(parse_roles(raw))), |c: &ApprovalChain| {
    roles_text(&c.0)
});

/// Which org units a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Admins: everything.
    All,
    /// This unit and everything below it.
    Unit(i64),
}

/// The authenticated caller, loaded from the database (or from the user cache, which forgets a
/// user as soon as the row changes: `cache`) so that deactivation and role changes apply at once.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub org_unit_id: i64,
    pub roles: Vec<Role>,
    pub request_id: Option<String>,
}

impl AuthUser {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_admin(&self) -> bool {
        self.has(Role::Admin)
    }

    /// Passes when the caller holds one of `roles` (admins always pass).
    pub fn require_any(&self, roles: &[Role]) -> Result<(), AppError> {
        if self.is_admin() || roles.iter().any(|r| self.has(*r)) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("this needs the role {}", needed(roles))))
        }
    }

    pub fn scope(&self) -> Scope {
        if self.is_admin() {
            Scope::All
        } else {
            Scope::Unit(self.org_unit_id)
        }
    }

    /// The audit actor for changes made by this caller.
    pub fn actor(&self) -> Actor {
        Actor { user_id: Some(self.id), request_id: self.request_id.clone() }
    }
}

/// The roles that pass `require_any(roles)`, for the 403's message: admins pass every check,
/// so an empty list means "admin only".
fn needed(roles: &[Role]) -> String {
    let mut names: Vec<_> = roles.iter().map(|r| r.as_str()).collect();
    if names.is_empty() {
        names.push(Role::Admin.as_str());
    }
    names.join(" or ")
}

/// What authentication reads of a user (and the user cache keeps).
#[derive(Debug, Clone, Queryable)]
pub struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    org_unit_id: i64,
    roles: RoleSet,
    active: bool,
    credentials_version: i32,
}

fn bearer(req: &HttpRequest) -> Result<String, AppError> {
    let missing = || AppError::Unauthorized("an Authorization: Bearer token is required".into());
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION).ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(missing());
    }
    Ok(token.trim().to_owned())
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let opener = gate::install(req);
        let user = authenticate(req);
        Box::pin(async move {
            let user = user.await?;
            opener.open();
            Ok(user)
        })
    }
}

/// Bearer → verified claims → the active user row.
fn authenticate(req: &HttpRequest) -> impl Future<Output = Result<AuthUser, AppError>> + 'static {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer(req);
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    async move {
        let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
        let subject = state.tokens.verify(&token?)?;
        let row = match state.users.get(&subject) {
            Some(row) => Some(row),
            None => {
                let ticket = state.users.ticket();
                let lookup = subject.clone();
                let row = state.db.run(move |conn| read_user(conn, &lookup)).await?;
                if let Some(row) = &row {
                    state.users.put(&subject, row.clone(), ticket);
                }
                row
            }
        };
        let row = row.map(|row| (row, subject));
        // Tokens die with the credential: one issued before the user's last password change,
        // deactivation or deletion carries an older version. The row is read from the database,
        // or from a cache that every such change empties first (`cache`), so this holds at once.
        // External tokens carry none.
        let current = |u: &UserRow, subject: &Subject| match subject {
            Subject::Local { credentials_version, .. } => *credentials_version >= u.credentials_version,
            Subject::External(_) => true,
        };
        match row {
            Some((u, subject)) if u.active && current(&u, &subject) => Ok(AuthUser {
                id: u.id,
                username: u.username,
                display_name: u.display_name,
                org_unit_id: u.org_unit_id,
                roles: u.roles.into_vec(),
                request_id,
            }),
            _ => Err(AppError::Unauthorized("the token is invalid or expired".into())),
        }
    }
}

/// The user a token names: by id for our own tokens, by username (people only) for the identity
/// provider's. Two statements, one per kind, each prepared once per connection.
fn read_user(conn: &mut crate::db::DbConn, subject: &Subject) -> Result<Option<UserRow>, AppError> {
    let columns = (
        users::id,
        users::username,
        users::display_name,
        users::org_unit_id,
        users::roles,
        users::active,
        users::credentials_version,
    );
    Ok(match subject {
        Subject::Local { id, .. } => users::table.filter(users::id.eq(*id)).select(columns).first(conn).optional()?,
        // The provider names people; a service account's client_id is no username of theirs.
        Subject::External(name) => users::table
            .filter(users::username.eq(name))
            .filter(users::kind.eq(UserKind::Person))
            .select(columns)
            .first(conn)
            .optional()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_sets_are_sorted_and_unique_and_skip_unknown_names() {
        let set = RoleSet::new(&[Role::Officer, Role::Admin, Role::Officer]);
        assert_eq!(roles_text(set.roles()), "admin,officer");
        assert_eq!(parse_roles("admin,officer"), vec![Role::Admin, Role::Officer]);
        assert_eq!(parse_roles("admin,unknown"), vec![Role::Admin]);
    }

    #[test]
    fn refusals_name_the_role_needed() {
        assert_eq!(needed(&[]), "admin");
        assert_eq!(needed(&[Role::Leader, Role::Inspector]), "leader or inspector");
    }

    #[test]
    fn approval_chains_keep_order_and_repeats() {
        let chain = [Role::Leader, Role::Inspector, Role::Leader];
        assert_eq!(parse_roles(&roles_text(&chain)), chain.to_vec());
    }
}
