#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    billing::lambda::run_schedule(cron_expire_holds::handle).await
}
