//! Hand-written statements that each connection prepares once and reuses.
//!
//! diesel never caches a `sql_query`: its text could be anything, so it is
//! parsed, planned and bound on every execution (for the claim writer ~0.7 ms
//! of its 1.4 ms). A statement declared with [`prepared_statement!`] has a
//! type of its own, which is the cache key, and takes all its parameters in
//! one leading `WITH p AS (SELECT $1::type AS name, …)`: the rest of the
//! text reads them as `p.name`, however often.

/// Declares a statement type: its parameters (Rust type, diesel SQL type
/// and PostgreSQL cast) and the text that follows the parameter row `p`.
/// Load it like any query whose rows are `QueryableByName`.
macro_rules! prepared_statement {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $field:ident : $rust:ty as $sql:ty = $cast:literal ),+ $(,)?
        }
        sql = $text:expr;
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( pub $field: $rust ),+
        }

        impl diesel::query_builder::QueryId for $name {
            type QueryId = $name;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl diesel::query_builder::Query for $name {
            type SqlType = diesel::sql_types::Untyped;
        }

        impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for $name {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> diesel::QueryResult<()> {
                out.push_sql("WITH p AS MATERIALIZED (SELECT ");
                let mut first = true;
                $(
                    if !first {
                        out.push_sql(", ");
                    }
                    first = false;
                    out.push_bind_param::<$sql, $rust>(&self.$field)?;
                    out.push_sql(concat!("::", $cast, " AS ", stringify!($field)));
                )+
                let _ = first;
                out.push_sql(")\n");
                out.push_sql($text);
                Ok(())
            }
        }
    };
}
pub(crate) use prepared_statement;
