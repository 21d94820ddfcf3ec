#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    billing::lambda::run_schedule(event_notifier::handle).await
}
