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

/// A statement whose text is put together at run time (only the filters a
/// request gives become conditions, so that each combination is planned
/// for what it asks) and which each connection still prepares once per
/// distinct text: unlike `sql_query`, it tells diesel that caching it by
/// its text is safe. Placeholders are written by [`Dynamic::bind`].
#[derive(Default)]
pub struct Dynamic {
    parts: Vec<Part>,
    has_where: bool,
}

enum Part {
    Sql(String),
    Bind(Box<dyn Bound>),
}

/// One bound value, whatever its types.
trait Bound: Send + Sync {
    fn push<'b>(
        &'b self,
        out: &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()>;
}

struct Typed<ST, T>(T, std::marker::PhantomData<fn() -> ST>);

impl<ST, T> Bound for Typed<ST, T>
where
    diesel::pg::Pg: diesel::sql_types::HasSqlType<ST>,
    T: diesel::serialize::ToSql<ST, diesel::pg::Pg> + Send + Sync,
{
    fn push<'b>(
        &'b self,
        out: &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        out.push_bind_param::<ST, T>(&self.0)
    }
}

impl Dynamic {
    pub fn new(sql: impl Into<String>) -> Self {
        Dynamic {
            parts: vec![Part::Sql(sql.into())],
            has_where: false,
        }
    }

    /// Appends text.
    pub fn sql(mut self, text: impl Into<String>) -> Self {
        self.parts.push(Part::Sql(text.into()));
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind<ST, T>(mut self, value: T) -> Self
    where
        ST: 'static,
        diesel::pg::Pg: diesel::sql_types::HasSqlType<ST>,
        T: diesel::serialize::ToSql<ST, diesel::pg::Pg> + Send + Sync + 'static,
    {
        self.parts.push(Part::Bind(Box::new(Typed::<ST, T>(
            value,
            std::marker::PhantomData,
        ))));
        self
    }

    /// Appends ` WHERE text` the first time, ` AND text` after.
    pub fn condition(mut self, text: &str) -> Self {
        let joiner = if self.has_where { " AND " } else { " WHERE " };
        self.has_where = true;
        self.sql(format!("{joiner}{text}"))
    }
}

impl diesel::query_builder::QueryId for Dynamic {
    type QueryId = ();
    // No type of its own: diesel caches it by its text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for Dynamic {
    type SqlType = diesel::sql_types::Untyped;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for Dynamic {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        for part in &self.parts {
            match part {
                Part::Sql(text) => out.push_sql(text),
                Part::Bind(value) => value.push(&mut out)?,
            }
        }
        Ok(())
    }
}
