//! `ReadConn`: the database connection of a read, taken from a replica
//! when one is fresh enough for the caller (see
//! [`crate::storage::replicas`]), else from the primary. Handlers of writes
//! use the primary pool; only GET handlers take a `ReadConn`.

use std::ops::{Deref, DerefMut};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use diesel_async::AsyncPgConnection;
use futures_util::future::LocalBoxFuture;

use crate::error::AppError;
use crate::http::read_your_writes::seen_position;
use crate::http::server::AppState;
use crate::storage::pool::DbConn;

pub struct ReadConn(DbConn);

impl Deref for ReadConn {
    type Target = AsyncPgConnection;

    fn deref(&self) -> &AsyncPgConnection {
        &self.0
    }
}

impl DerefMut for ReadConn {
    fn deref_mut(&mut self) -> &mut AsyncPgConnection {
        &mut self.0
    }
}

impl FromRequest for ReadConn {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let seen = seen_position(req);
        let req = req.clone();
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("application state is missing"))
            })?;
            let (conn, source) = state.database.reader(seen?).await?;
            req.extensions_mut().insert(source);
            Ok(ReadConn(conn))
        })
    }
}
