//! `sqs-stripe-events` — applies Stripe events from the FIFO queue, in order per customer:
//! checkout completions (credits, packs, lifetime), subscription changes (never overwritten by
//! an older event), invoice payments and failures (dunning, suspension, reactivation), refunds
//! (credits reversed, even into a negative balance) and payment method changes.

use aws_lambda_events::sqs::SqsMessage;
use billing::App;
use billing::messages::MessageError;

pub async fn handle(app: App, message: SqsMessage) -> Result<(), MessageError> {
    billing::stripe_events::flow::process(&app, message.body.as_deref().unwrap_or_default()).await
}
