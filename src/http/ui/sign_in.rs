//! Signing in with a token, and out.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Duration;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::page::{UiError, render, return_to, see_other};
use super::session::{
    Reviewer, SESSION_COOKIE, SESSION_HOURS, expired_session_cookie, session_cookie,
};
use crate::domain::auth::random_secret;
use crate::error::AppError;
use crate::http::server::AppState;
use crate::storage::browser_sessions;

/// The sign-in form's own CSRF token (there is no session yet): the same
/// random value in a cookie and in the form, compared on submit.
const SIGN_IN_COOKIE: &str = "claimtrail_sign_in";

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    csrf_token: &'a str,
    next: &'a str,
    problem: Option<&'a str>,
}

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

fn form_page(
    req: &HttpRequest,
    status: StatusCode,
    next: &str,
    problem: Option<&str>,
) -> Result<HttpResponse, UiError> {
    let csrf_token = random_secret()?;
    let mut res = render(
        status,
        &SignInPage {
            csrf_token: &csrf_token,
            next,
            problem,
        },
    )?;
    let cookie = Cookie::build(SIGN_IN_COOKIE, csrf_token)
        .path("/ui/sign-in")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(req.connection_info().scheme() == "https")
        .finish();
    res.add_cookie(&cookie)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("setting a cookie: {e}")))?;
    Ok(res)
}

pub async fn form(
    req: HttpRequest,
    query: web::Query<SignInQuery>,
) -> Result<HttpResponse, UiError> {
    form_page(&req, StatusCode::OK, return_to(query.next.as_deref()), None)
}

#[derive(Deserialize)]
pub struct SignInForm {
    token: String,
    csrf: String,
    next: Option<String>,
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, UiError> {
    let form = form.into_inner();
    let next = return_to(form.next.as_deref());
    let expected = req.cookie(SIGN_IN_COOKIE).map(|c| c.value().to_owned());
    let genuine = expected.is_some_and(|e| bool::from(e.as_bytes().ct_eq(form.csrf.as_bytes())));
    if !genuine {
        return Err(UiError::Forged);
    }
    let token = form.token.trim();
    if token.is_empty() {
        return form_page(
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            next,
            Some("Paste your token."),
        );
    }
    let mut conn = state.pool.get().await?;
    let Some(opened) =
        browser_sessions::open(&mut conn, token, Duration::hours(SESSION_HOURS)).await?
    else {
        return form_page(
            &req,
            StatusCode::UNAUTHORIZED,
            next,
            Some("That token is unknown or revoked."),
        );
    };
    let mut res = see_other(next);
    let mut done = Cookie::new(SIGN_IN_COOKIE, "");
    done.set_path("/ui/sign-in");
    done.make_removal();
    for cookie in [session_cookie(&req, opened.id), done] {
        res.add_cookie(&cookie)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("setting a cookie: {e}")))?;
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct SignOutForm {
    csrf: String,
}

/// Ends the session on the server, then in the browser.
pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    reviewer: Reviewer,
    form: web::Form<SignOutForm>,
) -> Result<HttpResponse, UiError> {
    reviewer.check_form(&form.csrf)?;
    if let Some(id) = req.cookie(SESSION_COOKIE) {
        let mut conn = state.pool.get().await?;
        browser_sessions::end(&mut conn, id.value()).await?;
    }
    let mut res = see_other("/ui/sign-in");
    res.add_cookie(&expired_session_cookie(&req))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("setting a cookie: {e}")))?;
    Ok(res)
}
