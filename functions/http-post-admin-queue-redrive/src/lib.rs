//! `POST /api/billing/admin/queues/{queue}/redrive` `{reason}` (billing-admin) →
//! `RedriveResponse`: moves a dead-letter queue's messages back to their source queue (up to
//! a cap per call), audited under the queue with who and why. `queue` is the dead-letter
//! queue's logical id (`UsageDeadLetterQueue`) or alias (`usage-dlq`).

use billing::App;
use billing::auth::Caller;
use billing::lambda::HttpResult;
use billing::lambda::http::{json_body_or_empty, ok_json, path_param};
use billing::operators::flow::Operator;
use billing::operators::flow::redrive;
use billing::operators::http::{AdminReasonRequest, RedriveResponse};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let caller = Caller::from_request(&req)?;
    caller.require_admin()?;
    let queue = path_param(&req, "queue")?;
    let body: AdminReasonRequest = json_body_or_empty(&req)?;
    let operator = Operator { subject: caller.subject.as_deref().unwrap_or("unknown") };
    let done = redrive::redrive(&app, &queue, operator, body.reason.as_deref()).await?;
    ok_json(&RedriveResponse {
        queue: done.queue.to_owned(),
        source_queue: done.source_queue.to_owned(),
        moved: done.moved,
        failed: done.failed,
        capped: done.capped,
        audit_id: done.audit_id,
    })
}
