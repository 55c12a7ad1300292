//! Dispatch: name the API by the path (its error shape), authenticate the client, map method
//! and path to a handler (`GET /v1/models`, or a
//! route's chat completions or embeddings), take the request's capacity, read its body, and answer every
//! error in the client API's shape.

use super::api::Api;
use super::context::RequestCtx;
use super::respond::{self, downstream};
use super::Session;
use super::{body, client_auth, converse, count_tokens, embeddings, limits, models, Gateway};
use crate::error::GatewayError;
use crate::translate::chat::Chat;
use crate::translate::messages::Messages;
use crate::translate::responses::Responses;
use pingora::prelude::*;

/// Serve one request. Every error is answered as an error body — except a client that is gone
/// (a write to it failed, possibly mid-stream): it is recorded, the connection is not reused,
/// and nothing more is written.
pub(crate) async fn serve(gw: &Gateway, session: &mut Session, ctx: &mut RequestCtx) -> Result<()> {
    let Err(e) = route(gw, session, ctx).await else {
        return Ok(());
    };
    ctx.status = respond::status(ctx.api.error_shape(), &e);
    let result = if let GatewayError::ClientGone { .. } = e {
        session.set_keepalive(None);
        Ok(())
    } else {
        respond::error(session, &e, &ctx.request_id, ctx.api, limits::headers(ctx)).await
    };
    ctx.error = Some(e);
    result
}

async fn route(
    gw: &Gateway,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<(), GatewayError> {
    let method = session.req_header().method.clone();
    let path = session.req_header().uri.path().to_owned();
    ctx.api = Api::of(&path);
    if let Some(keys) = &gw.listener.api_keys {
        ctx.client = Some(client_auth::check(session, keys)?.to_owned());
    }
    let not_allowed = || GatewayError::MethodNotAllowed {
        method: method.to_string(),
        path: path.clone(),
    };
    if ctx.api == Api::Models {
        if method != http::Method::GET {
            return Err(not_allowed());
        }
        return answer_models(gw, session, ctx, &path).await;
    }
    if !gw.routes.serves_path(&path) {
        return Err(GatewayError::NotFound {
            method: method.to_string(),
            path,
        });
    }
    if method != http::Method::POST {
        return Err(not_allowed());
    }
    ctx.slot = Some(gw.capacity.acquire()?);
    let body = body::read(session, gw.listener.max_body_bytes, &gw.body_budget).await?;
    ctx.body_bytes = body.permit;
    let body = &body.bytes;
    match ctx.api {
        Api::Chat => converse::handle::<Chat>(gw, session, ctx, &path, body).await,
        Api::Embeddings => embeddings::handle(gw, session, ctx, &path, body).await,
        Api::Responses => converse::handle::<Responses>(gw, session, ctx, &path, body).await,
        Api::Messages => converse::handle::<Messages>(gw, session, ctx, &path, body).await,
        Api::CountTokens => count_tokens::handle(gw, session, ctx, &path, body).await,
        Api::Models => Err(GatewayError::NotFound {
            method: method.to_string(),
            path,
        }),
    }
}

/// `GET /v1/models` and `GET /v1/models/{id}`.
async fn answer_models(
    gw: &Gateway,
    session: &mut Session,
    ctx: &mut RequestCtx,
    path: &str,
) -> Result<(), GatewayError> {
    let body = match path.strip_prefix("/v1/models/") {
        Some(id) => models::get(&gw.routes, id)?,
        None => models::list(&gw.routes),
    };
    ctx.status = 200;
    respond::json(session, 200, body, &ctx.request_id, &[])
        .await
        .map_err(|e| downstream(&e))
}
