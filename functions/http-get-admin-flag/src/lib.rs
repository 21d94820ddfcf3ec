//! `GET /api/billing/admin/flags/{flag}` (billing-admin) → `FlagResponse`: the flag's
//! default, tier values and last change. `404 flag_not_found` when it is not defined.

use billing::flags::flow as flags;
use billing::flags::http::FlagResponse;
use billing::lambda::HttpResult;
use billing::lambda::http::{ok_json, path_flag};
use billing::{App, auth::Caller};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    Caller::from_request(&req)?.require_admin()?;
    let name = path_flag(&req)?;
    let flag = flags::get(&app, &name).await?;
    ok_json(&FlagResponse::from(&flag))
}
