#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    billing::lambda::run_schedule(cron_monthly_close::handle).await
}
