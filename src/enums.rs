//! Closed sets of values that are stored as text: statuses, roles, decisions.
//!
//! `string_enum!` declares such an enum once: its wire name (serde, OpenAPI)
//! and its stored text are the same string, and it is a diesel type over
//! `Text` on both backends, so a row is typed the moment it leaves the
//! database and a query compares enum values, never string literals.

/// Declares a string-backed enum: `as_str`, `parse`, serde, OpenAPI and diesel `Text` mapping.
#[macro_export]
macro_rules! string_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        // `rename_all` (not a per-variant rename) is what utoipa reads into the spec; a unit
        // test checks that every variant's snake_case name is its `$text`.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[serde(rename_all = "snake_case")]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl $name {
            /// `true` when serde's name of every variant is its stored text.
            #[cfg(test)]
            pub fn names_agree() -> bool {
                Self::ALL.iter().all(|v| serde_json::to_value(v).ok() == Some(serde_json::Value::from(v.as_str())))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $crate::text_sql_type!($name, |s: &str| $name::parse(s), |v: &$name| v.as_str());
    };
}

/// Maps a Rust type to `Text` on PostgreSQL, SQLite and the `MultiConnection`'s backend,
/// through a parse and a render function. A stored value that does not parse is a
/// deserialisation error (a data fault, reported as 500), never a silent default.
#[macro_export]
macro_rules! text_sql_type {
    ($name:ty, $parse:expr, $render:expr) => {
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let raw = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg>>::from_sql(bytes)?;
                ($parse)(raw.as_str()).ok_or_else(|| format!("unknown {} `{raw}` in the database", stringify!($name)).into())
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $name {
            fn from_sql(
                bytes: <diesel::sqlite::Sqlite as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let raw =
                    <String as diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::sqlite::Sqlite>>::from_sql(bytes)?;
                ($parse)(raw.as_str()).ok_or_else(|| format!("unknown {} `{raw}` in the database", stringify!($name)).into())
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $name {
            fn from_sql(bytes: $crate::db::MultiRawValue<'_>) -> diesel::deserialize::Result<Self> {
                bytes.from_sql::<Self, diesel::sql_types::Text>()
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>) -> diesel::serialize::Result {
                use std::io::Write;
                let text: String = ($render)(self).into();
                out.write_all(text.as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                let text: String = ($render)(self).into();
                out.set_value(text);
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value((diesel::sql_types::Text, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }
    };
}
